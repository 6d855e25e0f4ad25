// The built `tokenwarden` bin (dist/, built by `npm test`'s pretest) against the simulator.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startSimulator, type Simulator } from 'tokenwarden/testing';
import { CLI_EXIT_CODES } from '../src/cli/exit-codes';

const bin = join(__dirname, '..', 'dist', 'cli', 'main.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: NodeJS.ProcessEnv, stdin?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [bin, ...args], { env: { PATH: process.env.PATH, ...env }, timeout: 20_000 }, (error, stdout, stderr) =>
      resolve({ code: child.exitCode ?? (error ? 1 : 0), stdout, stderr }),
    );
    if (stdin !== undefined) child.stdin!.end(stdin);
    else child.stdin!.end();
  });
}

/** `check`'s text rows, by name: `  provider   crowdstrike` → { provider: 'crowdstrike' }. */
function rowsOf(stdout: string): Record<string, string> {
  return Object.fromEntries([...stdout.matchAll(/^ {2}(.{10}) (.*)$/gm)].map(([, name, value]) => [name!.trim(), value!]));
}

/** The words of `text` that are tokens `server` issued: none may be printed but by `token`. */
function tokensIn(text: string, server: Simulator): string[] {
  return [...text.matchAll(/[\w.~+/=-]{16,}/g)].map(([word]) => word).filter((word) => server.issuance(word) !== undefined);
}

interface SimProcess {
  /** What it printed on stdout up to its banner's last line. */
  banner: string;
  /** Its `export NAME=value` lines. */
  env: Record<string, string>;
  stderr: () => string;
  /** SIGTERM; resolves to its exit code. */
  stop: () => Promise<number | null>;
}

/** `tokenwarden sim` processes still running: afterEach kills them, whatever a test did. */
const children = new Set<ChildProcess>();
afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
});

/** Starts `tokenwarden sim ...args` and waits for its banner. */
async function startSimProcess(args: string[]): Promise<SimProcess> {
  const child = spawn(process.execPath, [bin, 'sim', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let banner = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => ((banner += chunk.toString()), banner.includes('Stop with') && resolve()));
    void exited.then((code) => reject(new Error(`tokenwarden sim exited with ${String(code)} before its banner:\n${stderr}`)));
  });
  const simEnv = Object.fromEntries([...banner.matchAll(/^ {2}export (\w+)=(\S+)$/gm)].map(([, name, value]) => [name!, value!]));
  const stop = async () => {
    child.kill('SIGTERM');
    const code = await exited;
    children.delete(child);
    return code;
  };
  return { banner, env: simEnv, stderr: () => stderr, stop };
}

let sim: Simulator;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  if (!existsSync(bin)) throw new Error('dist/cli/main.js is missing: run `npm run build` (npm test does it for you)');
  sim = await startSimulator({ dialect: 'crowdstrike' });
  env = { FALCON_CLIENT_ID: sim.clientId, FALCON_CLIENT_SECRET: sim.clientSecret, FALCON_BASE_URL: sim.url };
});
afterAll(() => sim.close());

test('the exit codes are stable', () => {
  expect(CLI_EXIT_CODES).toMatchSnapshot();
});

test('token prints exactly a live token and a newline', async () => {
  const result = await run(['token'], env);
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/^\S+\n$/);
  expect(sim.isLive(result.stdout.trim())).toBe(true);
  expect(result.stderr).not.toContain(sim.clientSecret);
});

test('check --json reports without the token and revokes it', async () => {
  const before = sim.stats.revokeCalls;
  const result = await run(['check', '--json'], env);
  expect(result.code).toBe(0);
  const report = JSON.parse(result.stdout) as { provider: string; revoked: boolean; baseUrl: string };
  expect(report).toMatchObject({ provider: 'crowdstrike', revoked: true, baseUrl: sim.url });
  expect(sim.stats.revokeCalls).toBe(before + 1);
  expect(result.stdout).not.toContain(sim.clientSecret);
});

test('revoke takes the token from stdin', async () => {
  const token = (await run(['token'], env)).stdout.trim();
  const result = await run(['revoke'], env, `${token}\n`);
  expect(result.code).toBe(0);
  expect(sim.isLive(token)).toBe(false);
  expect(result.stdout + result.stderr).not.toContain(token);
  expect((await run(['revoke'], env, '  \n')).code).toBe(CLI_EXIT_CODES.usage);
});

test('each failure has its exit code, and a secret flag is refused without echoing it', async () => {
  expect((await run(['token'], { ...env, FALCON_CLIENT_SECRET: 'wrong-secret' })).code).toBe(CLI_EXIT_CODES.invalid_credentials);
  expect((await run(['token', '--retries', '0'], { ...env, FALCON_BASE_URL: 'http://127.0.0.1:1' })).code).toBe(CLI_EXIT_CODES.network_error);
  expect((await run(['token'], {})).code).toBe(CLI_EXIT_CODES.missing_credentials);
  expect((await run(['token'], { ...env, OAUTH2_CLIENT_ID: 'x' })).code).toBe(CLI_EXIT_CODES.ambiguous_provider);
  const refused = await run(['token', '--client-secret=hunter2-value'], env);
  expect(refused.code).toBe(CLI_EXIT_CODES.usage);
  expect(refused.stderr).toContain('process list');
  expect(refused.stderr).not.toContain('hunter2-value');
});

test('--env-file reads the credentials, and a world-readable one is refused', async () => {
  const { mkdtemp, writeFile, chmod, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(join(tmpdir(), 'tokenwarden-cli-'));
  const file = join(dir, 'falcon.env');
  await writeFile(
    file,
    Object.entries(env)
      .map(([name, value]) => `${name}=${value}\n`)
      .join(''),
    { mode: 0o600 },
  );
  const ok = await run(['token', '--env-file', file], {});
  expect(ok.code).toBe(0);
  expect(sim.isLive(ok.stdout.trim())).toBe(true);
  await chmod(file, 0o644);
  expect((await run(['token', '--env-file', file], {})).code).toBe(CLI_EXIT_CODES.insecure_env_file);
  await rm(dir, { recursive: true, force: true });
});

test('sim runs standalone: its printed credentials get a token, and SIGTERM ends it with 0', async () => {
  const server = await startSimProcess(['--dialect', 'oauth2']);
  expect(server.banner).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+/);
  const got = await run(['token'], server.env);
  expect(got.code).toBe(0);
  expect(got.stdout).toMatch(/^\S+\n$/);
  expect(await server.stop()).toBe(0);
});

test('check prints provider, URLs, expiry and scope as text, and neither the token nor the secret', async () => {
  const oauth = await startSimulator({ dialect: 'oauth2', tokenLifetimeSeconds: 600 });
  try {
    const oauthEnv = {
      OAUTH2_TOKEN_URL: oauth.tokenUrl,
      OAUTH2_REVOCATION_URL: oauth.revokeUrl,
      OAUTH2_CLIENT_ID: oauth.clientId,
      OAUTH2_CLIENT_SECRET: oauth.clientSecret,
      OAUTH2_BASE_URL: oauth.url,
      OAUTH2_SCOPE: 'devices:read hosts:write',
    };
    // The detector finds a printed token: `token` prints one.
    expect(tokensIn((await run(['token'], oauthEnv)).stdout, oauth)).toHaveLength(1);
    const before = Date.now();
    const result = await run(['check'], oauthEnv);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^credentials OK\n/);
    const rows = rowsOf(result.stdout);
    expect(rows).toEqual({
      provider: 'oauth2',
      'base URL': oauth.url,
      'token URL': oauth.tokenUrl,
      'token type': 'Bearer',
      scope: 'devices:read hosts:write',
      expires: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z \(in (?:5[89]\d|600) s\)$/) as string,
      revoked: 'yes',
    });
    const expiresAt = Date.parse(rows['expires']!.split(' ')[0]!);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 599_000); // issued after `before`, for 600 s
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 600_000);
    expect(oauth.stats.tokensIssued).toBe(2);
    for (const output of [result.stdout, result.stderr]) {
      expect(output).not.toContain(oauth.clientSecret);
      expect(tokensIn(output, oauth)).toEqual([]);
    }
    // CrowdStrike against a base URL: that URL, no cloud.
    const falcon = rowsOf((await run(['check'], env)).stdout);
    expect(falcon).toMatchObject({ provider: 'crowdstrike', 'base URL': sim.url, scope: '(none named)' });
    expect(falcon).not.toHaveProperty('cloud');
  } finally {
    await oauth.close();
  }
});

test('check --keep leaves its token live; plain check revokes it', async () => {
  sim.revokeAll(); // the tokens of the tests before
  const { tokensIssued, revokeCalls, tokensRevoked } = sim.stats;
  const kept = await run(['check', '--keep'], env);
  expect(kept.code).toBe(0);
  expect(rowsOf(kept.stdout)['revoked']).toBe('no: --keep');
  expect(sim.stats).toMatchObject({ tokensIssued: tokensIssued + 1, revokeCalls, tokensRevoked });
  expect(sim.revokeAll()).toBe(1); // the kept token was still live
  const plain = await run(['check'], env);
  expect(plain.code).toBe(0);
  expect(rowsOf(plain.stdout)['revoked']).toBe('yes');
  expect(sim.stats).toMatchObject({ tokensIssued: tokensIssued + 2, revokeCalls: revokeCalls + 1, tokensRevoked: tokensRevoked + 2 });
  expect(sim.revokeAll()).toBe(0);
});

test('check with OneLogin does not revoke: every client of the credentials has the same token', async () => {
  const ol = await startSimulator({ dialect: 'onelogin' });
  try {
    const olEnv = { ONELOGIN_CLIENT_ID: ol.clientId, ONELOGIN_CLIENT_SECRET: ol.clientSecret, ONELOGIN_BASE_URL: ol.url };
    const shared = (await run(['token'], olEnv)).stdout.trim();
    expect(ol.isLive(shared)).toBe(true);
    const text = await run(['check'], olEnv);
    const json = await run(['check', '--json'], olEnv);
    expect([text.code, json.code]).toEqual([0, 0]);
    expect(rowsOf(text.stdout)).toMatchObject({ provider: 'onelogin', 'base URL': ol.url, revoked: expect.stringMatching(/^no: OneLogin/) as string });
    expect(JSON.parse(json.stdout)).toMatchObject({
      provider: 'onelogin',
      baseUrl: ol.url,
      revoked: false,
      notRevoked: expect.stringMatching(/^OneLogin/) as string,
    });
    // Both checks were handed the shared token, and neither revoked it.
    expect(ol.stats).toMatchObject({ tokenCalls: 3, tokensIssued: 1, revokeCalls: 0, tokensRevoked: 0 });
    expect(ol.isLive(shared)).toBe(true);
    for (const output of [text.stdout, text.stderr, json.stdout, json.stderr]) {
      expect(output).not.toContain(shared);
      expect(output).not.toContain(ol.clientSecret);
    }
  } finally {
    await ol.close();
  }
});

test('sim fault flags take effect: --fail-first with --fail-with, --token-lifetime, --latency', async () => {
  const flags = ['--dialect', 'oauth2', '--token-lifetime', '120', '--fail-first', '1', '--fail-with', '503', '--latency', '300'];
  const server = await startSimProcess(flags);
  const failed = await run(['token', '--retries', '0'], server.env);
  expect(failed.code).toBe(CLI_EXIT_CODES.server_error);
  expect(failed.stderr).toMatch(/^tokenwarden: server_error: /);
  const basic = Buffer.from(`${server.env['OAUTH2_CLIENT_ID']}:${server.env['OAUTH2_CLIENT_SECRET']}`).toString('base64');
  const start = performance.now();
  const response = await fetch(server.env['OAUTH2_TOKEN_URL']!, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  const body = (await response.json()) as { expires_in?: unknown };
  expect(performance.now() - start).toBeGreaterThanOrEqual(290);
  expect(response.status).toBe(200);
  expect(body.expires_in).toBe(120);
  const checked = await run(['check', '--json'], server.env);
  expect(checked.code).toBe(0);
  // 120 less the time between issuing and printing (seconds on a loaded machine).
  const { expiresInSeconds } = JSON.parse(checked.stdout) as { expiresInSeconds: number };
  expect(expiresInSeconds).toBeGreaterThanOrEqual(110);
  expect(expiresInSeconds).toBeLessThanOrEqual(120);
  expect(await server.stop()).toBe(0);
  expect(server.stderr()).toContain('stopping: 3 token calls, 1 revoke calls, 0 API calls');
});
