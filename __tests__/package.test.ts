// The built package (dist/, built by `npm test`'s pretest) as users get it. Each check is a user's
// project in a temporary directory with its own package.json and tsconfig.json, where
// node_modules/tokenwarden links to this repository and axios, ioredis and @types/node link to
// ours (one axios on disk, as npm dedupes it; which of its builds a file gets depends on how it
// is loaded, as in a real install).
//
// Types: a program that passes its own axios instances to the manager is type-checked under
// nodenext ESM, node16 CommonJS, bundler and node10, and each must read our declarations in one
// mode only (the .d.mts files or the .d.ts files, never both) and the matching build of axios's.
//
// Run time: an ES module app (`import axios from 'axios'`) and a CommonJS app (`require`) make
// every kind of failing request against the simulator, and judge each error with their own
// axios and tokenwarden modules (fixtures/package/scenarios.cjs).
//
// Packed: `npm pack`'s tarball holds the build and the README only, and its `tokenwarden` bin,
// unpacked, runs by its shebang.
import { execFile } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, normalize, relative } from 'node:path';
import { startSimulator } from 'tokenwarden/testing';

const root = join(__dirname, '..');
const fixtures = join(__dirname, 'fixtures/package');
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const realRoot = realpathSync(root);
const realAxios = realpathSync(join(root, 'node_modules/axios'));

interface Exit {
  code: number | string | null;
  stdout: string;
  stderr: string;
}

/** `file ...args` in `cwd`; never rejects, so every result can be looked at. */
function exec(file: string, args: string[], cwd: string, timeout: number, env?: NodeJS.ProcessEnv): Promise<Exit> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, timeout, maxBuffer: 16 * 1024 * 1024, ...(env && { env }) }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : (error.code ?? error.signal ?? null), stdout, stderr });
    });
  });
}

const node = (args: string[], cwd: string, timeout: number): Promise<Exit> => exec(process.execPath, args, cwd, timeout);

let base: string;

/** A user's project: package.json, files copied from fixtures/package, node_modules links. */
async function project(name: string, packageJson: object, files: Record<string, string>, tsconfig?: object): Promise<string> {
  const dir = join(base, name);
  await mkdir(join(dir, 'node_modules/@types'), { recursive: true });
  const links: [string, string][] = [
    ['tokenwarden', root],
    ['axios', join(root, 'node_modules/axios')],
    ['ioredis', join(root, 'node_modules/ioredis')],
    ['@types/node', join(root, 'node_modules/@types/node')],
  ];
  await Promise.all([
    writeFile(join(dir, 'package.json'), JSON.stringify({ name, private: true, ...packageJson })),
    tsconfig && writeFile(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig)),
    ...Object.entries(files).map(([to, from]) => copyFile(join(fixtures, from), join(dir, to))),
    ...links.map(([to, target]) => symlink(target, join(dir, 'node_modules', to), 'dir')),
  ]);
  return dir;
}

interface TypeCheck {
  exit: Exit['code'];
  /** The first line of each diagnostic. */
  errors: string[];
  /** Which kind of our declaration files the program read. */
  declarations: string[];
  /** Which of axios's declaration files it read. */
  axios: string[];
}

async function typeCheck(dir: string): Promise<TypeCheck> {
  const { code, stdout, stderr } = await node([tsc, '-p', dir, '--listFiles', '--pretty', 'false'], dir, 60_000);
  const lines = `${stdout}\n${stderr}`.split('\n');
  const files = lines.filter((line) => line.startsWith('/'));
  const unique = (list: string[]) => [...new Set(list)].sort();
  return {
    exit: code,
    errors: lines.filter((line) => /^\S.*error TS\d+:/.test(line)),
    declarations: unique(files.filter((file) => file.startsWith(`${realRoot}/dist/`)).map((file) => /\.d\.[mc]?ts$/.exec(file)?.[0] ?? file)),
    axios: unique(files.filter((file) => file.startsWith(`${realAxios}/`)).map((file) => relative(realAxios, file))),
  };
}

const compilerOptions = { strict: true, noEmit: true, target: 'es2022', lib: ['es2023'], types: ['node'], skipLibCheck: false };

interface Setting {
  name: string;
  /** The project's directory name. */
  dir: string;
  packageJson: object;
  options: object;
  /** Project file name → fixture. */
  files: Record<string, string>;
  expected: Pick<TypeCheck, 'declarations' | 'axios'>;
}

/** The four ways a consumer's TypeScript can resolve the package, and what each must read. */
const settings: Setting[] = [
  {
    name: 'nodenext ESM ("type": "module", module nodenext)',
    dir: 'nodenext-esm',
    packageJson: { type: 'module' },
    options: { module: 'nodenext' },
    files: { 'consumer.ts': 'consumer.ts' },
    expected: { declarations: ['.d.mts'], axios: ['index.d.ts'] },
  },
  {
    name: 'node16 CommonJS (module node16)',
    dir: 'node16-cjs',
    packageJson: { type: 'commonjs' },
    options: { module: 'node16' },
    files: { 'consumer.ts': 'consumer.ts', 'require.cts': 'require.cts' },
    expected: { declarations: ['.d.ts'], axios: ['index.d.cts'] },
  },
  {
    name: 'bundler (module esnext)',
    dir: 'bundler',
    packageJson: {},
    options: { module: 'esnext', moduleResolution: 'bundler' },
    files: { 'consumer.ts': 'consumer.ts' },
    expected: { declarations: ['.d.mts'], axios: ['index.d.ts'] },
  },
  {
    name: 'node10 (module commonjs, moduleResolution node10)',
    dir: 'node10',
    packageJson: {},
    options: { module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true },
    files: { 'consumer.ts': 'consumer.ts', 'require.cts': 'require.cts' },
    expected: { declarations: ['.d.ts'], axios: ['index.d.ts'] },
  },
];

const apps = ['app.mjs', 'app.cjs'] as const;

let typeChecks: Map<string, TypeCheck>;
let runs: Map<string, Exit>;

beforeAll(async () => {
  if (!existsSync(join(root, 'dist/index.js')) || !existsSync(join(root, 'dist/index.mjs'))) {
    throw new Error('dist/ is missing: run `npm run build` (npm test does it for you)');
  }
  base = await mkdtemp(join(tmpdir(), 'tokenwarden-package-'));
  const runtime = project('runtime', {}, { 'app.mjs': 'app.mjs', 'app.cjs': 'app.cjs', 'scenarios.cjs': 'scenarios.cjs' });
  const checks = settings.map(async (setting) => {
    const dir = await project(setting.dir, setting.packageJson, setting.files, {
      compilerOptions: { ...compilerOptions, ...setting.options },
      files: Object.keys(setting.files),
    });
    return [setting.dir, await typeCheck(dir)] as const;
  });
  // All side by side: tsc is most of the time, the apps mostly wait on sockets.
  const ran = apps.map(async (app) => [app, await node([app], await runtime, 30_000)] as const);
  typeChecks = new Map(await Promise.all(checks));
  runs = new Map(await Promise.all(ran));
}, 90_000);

afterAll(async () => {
  if (base) await rm(base, { recursive: true, force: true });
});

describe('a program passing its axios instances type-checks against the built package', () => {
  test.each(settings)('$name', ({ dir, expected }) => {
    expect(typeChecks.get(dir)).toEqual({ exit: 0, errors: [], ...expected });
  });
});

/** What scenarios.cjs must print for a request that rejects. */
const rejection = (judged: { tokenError?: boolean; axiosError?: boolean; canceled?: boolean; isCancel?: boolean; code: string; status?: number }) => ({
  tokenError: false,
  axiosError: false,
  canceled: false,
  isCancel: false,
  status: null,
  ...judged,
});

const expected = {
  invalidCredentials: rejection({ tokenError: true, code: 'invalid_credentials' }),
  status500: {
    afterWait: rejection({ axiosError: true, code: 'ERR_BAD_RESPONSE', status: 500 }),
    withToken: rejection({ axiosError: true, code: 'ERR_BAD_RESPONSE', status: 500 }),
  },
  unauthorizedAfterReplay: { ...rejection({ axiosError: true, code: 'ERR_BAD_REQUEST', status: 401 }), apiCalls: 2 },
  networkErrorAfterWait: rejection({ axiosError: true, code: 'ECONNREFUSED' }),
  timeoutWhileWaiting: rejection({ axiosError: true, code: 'ECONNABORTED' }),
  // CanceledError is a subclass of AxiosError.
  abortWhileWaiting: rejection({ axiosError: true, canceled: true, isCancel: true, code: 'ERR_CANCELED' }),
  lifecycle: { token: 'string', status: 200, tokenCalls: 1, revoked: 1, afterDispose: rejection({ tokenError: true, code: 'disposed' }) },
  oneCopy: { sameNames: true, sameObjects: true, instanceAcross: true },
  redisStore: 'function',
  fetch: { ok: 200, refused: 401, response: true, sends: 2 },
};

describe.each(apps)('%s against the built package and its simulator', (app) => {
  const output = (): Record<string, unknown> => {
    const exit = runs.get(app)!;
    if (exit.code !== 0) throw new Error(`${app} exited with ${String(exit.code)}:\n${exit.stderr}${exit.stdout}`);
    return JSON.parse(exit.stdout) as Record<string, unknown>;
  };

  test('ran every scenario', () => {
    expect(Object.keys(output()).sort()).toEqual(Object.keys(expected).sort());
  });
  test('no token to be had (wrong secret): the TokenError itself, not an AxiosError', () => {
    expect(output().invalidCredentials).toEqual(expected.invalidCredentials);
  });
  test("a 500 from the API, after waiting for the token and with one: the app's AxiosError", () => {
    expect(output().status500).toEqual(expected.status500);
  });
  test("a 401 the one replay does not cure: the app's AxiosError, after exactly two sends", () => {
    expect(output().unauthorizedAfterReplay).toEqual(expected.unauthorizedAfterReplay);
  });
  test("a refused connection after waiting for the token: the app's AxiosError", () => {
    expect(output().networkErrorAfterWait).toEqual(expected.networkErrorAfterWait);
  });
  test("the request's timeout running out while it waits for a token: the app's AxiosError, ECONNABORTED", () => {
    expect(output().timeoutWhileWaiting).toEqual(expected.timeoutWhileWaiting);
  });
  test("the caller aborting while the request waits for a token: the app's CanceledError, axios.isCancel", () => {
    expect(output().abortWhileWaiting).toEqual(expected.abortWhileWaiting);
  });
  test('token, request, dispose (revokes), then a relative-URL request on the attached instance: TokenError disposed', () => {
    expect(output().lifecycle).toEqual(expected.lifecycle);
  });
  test('tokens.fetch with telemetry on: a relative URL, and a 401 the replay does not cure comes back as the Response', () => {
    expect(output().fetch).toEqual(expected.fetch);
  });
  test('import and require share one copy of each class; tokenwarden/redis loads', () => {
    expect([output().oneCopy, output().redisStore]).toEqual([expected.oneCopy, expected.redisStore]);
  });
});

describe('npm pack: the tarball as published', () => {
  let dir: string;
  let listed: Map<string, number>;
  let unpacked: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tokenwarden-pack-'));
    // --ignore-scripts: `prepare` would rebuild dist/ under the other test files' feet.
    const packed = await exec('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], root, 60_000);
    if (packed.code !== 0) throw new Error(`npm pack exited with ${String(packed.code)}:\n${packed.stderr}`);
    const [report] = JSON.parse(packed.stdout) as { filename: string; files: { path: string; mode: number }[] }[];
    listed = new Map(report!.files.map((file) => [file.path, file.mode]));
    // Installing it takes the registry (its dependencies; offline: ENOTCACHED), so it is unpacked,
    // and its bin run with our node_modules beside it.
    const untar = await exec('tar', ['-xzf', join(dir, report!.filename), '-C', dir], dir, 30_000);
    if (untar.code !== 0) throw new Error(`tar exited with ${String(untar.code)}:\n${untar.stderr}`);
    unpacked = join(dir, 'package');
    await symlink(join(root, 'node_modules'), join(unpacked, 'node_modules'), 'dir');
  }, 90_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('bin.tokenwarden is dist/cli/main.js, listed in the tarball as an executable node script', async () => {
    const manifest = JSON.parse(await readFile(join(unpacked, 'package.json'), 'utf8')) as { bin?: Record<string, string> };
    expect(normalize(manifest.bin?.['tokenwarden'] ?? '')).toBe('dist/cli/main.js');
    expect(listed.get('dist/cli/main.js')! & 0o111).toBe(0o111);
    expect((await stat(join(unpacked, 'dist/cli/main.js'))).mode & 0o111).toBe(0o111);
    expect((await readFile(join(unpacked, 'dist/cli/main.js'), 'utf8')).startsWith('#!/usr/bin/env node\n')).toBe(true);
    // Only the build and the README: no sources, tests or local files.
    expect([...listed.keys()].filter((path) => !path.startsWith('dist/')).sort()).toEqual(['README.md', 'package.json']);
  });

  test('the unpacked bin runs by its shebang: --version, and check against the simulator', async () => {
    const bin = join(unpacked, 'dist/cli/main.js');
    const path = `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`;
    const version = await exec(bin, ['--version'], dir, 20_000, { PATH: path });
    const { version: ours } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };
    expect(version).toEqual({ code: 0, stdout: `${ours}\n`, stderr: '' });
    const sim = await startSimulator({ dialect: 'crowdstrike' });
    try {
      const env = { PATH: path, FALCON_CLIENT_ID: sim.clientId, FALCON_CLIENT_SECRET: sim.clientSecret, FALCON_BASE_URL: sim.url };
      const checked = await exec(bin, ['check', '--json'], dir, 20_000, env);
      expect(checked.code).toBe(0);
      expect(JSON.parse(checked.stdout)).toMatchObject({ ok: true, provider: 'crowdstrike', baseUrl: sim.url, revoked: true });
      expect(sim.stats).toMatchObject({ tokensIssued: 1, tokensRevoked: 1 });
    } finally {
      await sim.close();
    }
  });
});
