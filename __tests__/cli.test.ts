// The built `tokenwarden` bin (dist/, built by `npm test`'s pretest) against the simulator.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
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
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [bin, 'sim', '--dialect', 'oauth2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((resolve) => child.stdout.on('data', (chunk: Buffer) => ((out += chunk.toString()), out.includes('Stop with') && resolve())));
  const simEnv = Object.fromEntries([...out.matchAll(/^ {2}export (\w+)=(\S+)$/gm)].map(([, name, value]) => [name!, value!]));
  expect(out).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+/);
  const got = await run(['token'], simEnv);
  expect(got.code).toBe(0);
  expect(got.stdout).toMatch(/^\S+\n$/);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
});
