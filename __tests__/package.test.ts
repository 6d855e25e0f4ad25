// The built package (dist/, built by `npm test`'s pretest) as users get it. Each check is a user's
// project in a temporary directory with its own package.json and tsconfig.json, where
// node_modules/tokenwarden links to this repository and axios, ioredis and @types/node link to
// ours (one axios on disk, as npm dedupes it; which of its builds a file gets depends on how it
// is loaded, as in a real install).
//
// Types: a program that passes its own axios instances to the manager is type-checked under
// nodenext ESM, node16 CommonJS, bundler and node10, and each must read our declarations in one
// mode only (the .d.mts files or the .d.ts files, never both) and the matching build of axios's.
import { execFile } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';

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

/** `node ...args` in `cwd`; never rejects, so every result can be looked at. */
function node(args: string[], cwd: string, timeout: number): Promise<Exit> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd, timeout, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : (error.code ?? error.signal ?? null), stdout, stderr });
    });
  });
}

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

let typeChecks: Map<string, TypeCheck>;

beforeAll(async () => {
  if (!existsSync(join(root, 'dist/index.js')) || !existsSync(join(root, 'dist/index.mjs'))) {
    throw new Error('dist/ is missing: run `npm run build` (npm test does it for you)');
  }
  base = await mkdtemp(join(tmpdir(), 'tokenwarden-package-'));
  const checks = settings.map(async (setting) => {
    const dir = await project(setting.dir, setting.packageJson, setting.files, {
      compilerOptions: { ...compilerOptions, ...setting.options },
      files: Object.keys(setting.files),
    });
    return [setting.dir, await typeCheck(dir)] as const;
  });
  typeChecks = new Map(await Promise.all(checks));
}, 90_000);

afterAll(async () => {
  if (base) await rm(base, { recursive: true, force: true });
});

describe('a program passing its axios instances type-checks against the built package', () => {
  test.each(settings)('$name', ({ dir, expected }) => {
    expect(typeChecks.get(dir)).toEqual({ exit: 0, errors: [], ...expected });
  });
});

// Run time.
const run = promisify(execFile);

const flow = (load: string) => `
${load}
const sim = await startSimulator({ dialect: 'oauth2' });
const tokens = new TokenManager({ provider: clientCredentials({ tokenUrl: sim.tokenUrl, clientId: sim.clientId, clientSecret: sim.clientSecret, revocationUrl: sim.revokeUrl }) });
const token = await tokens.getToken();
await tokens.dispose();
await sim.close();
console.log(JSON.stringify({ token: typeof token, calls: sim.stats.tokenCalls, revoked: sim.stats.tokensRevoked, errorClass: typeof TokenError }));
`;

test('import from ESM', async () => {
  const code = flow(`import { TokenManager, TokenError, clientCredentials } from 'tokenwarden';\nimport { startSimulator } from 'tokenwarden/testing';`);
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code], { cwd: root });
  expect(JSON.parse(stdout)).toEqual({ token: 'string', calls: 1, revoked: 1, errorClass: 'function' });
});

test('require from CommonJS', async () => {
  const code = `(async () => {${flow(`const { TokenManager, TokenError, clientCredentials } = require('tokenwarden');\nconst { startSimulator } = require('tokenwarden/testing');`)}})();`;
  const { stdout } = await run(process.execPath, ['-e', code], { cwd: root });
  expect(JSON.parse(stdout)).toEqual({ token: 'string', calls: 1, revoked: 1, errorClass: 'function' });
});

test('tokenwarden/redis from ESM and from CommonJS', async () => {
  const esm = `import { redisStore } from 'tokenwarden/redis'; console.log(typeof redisStore);`;
  const cjs = `const { redisStore } = require('tokenwarden/redis'); console.log(typeof redisStore);`;
  expect((await run(process.execPath, ['--input-type=module', '-e', esm], { cwd: root })).stdout.trim()).toBe('function');
  expect((await run(process.execPath, ['-e', cjs], { cwd: root })).stdout.trim()).toBe('function');
});

test('import and require share one copy of each class (instanceof works across both)', async () => {
  const code = `
import { createRequire } from 'node:module';
import * as esm from 'tokenwarden';
const cjs = createRequire(process.cwd() + '/')('tokenwarden');
const error = new cjs.TokenError('disposed', 'x');
console.log(JSON.stringify({ same: esm.TokenManager === cjs.TokenManager, instance: error instanceof esm.TokenError, names: Object.keys(esm).length === Object.keys(cjs).length }));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code], { cwd: root });
  expect(JSON.parse(stdout)).toEqual({ same: true, instance: true, names: true });
});
