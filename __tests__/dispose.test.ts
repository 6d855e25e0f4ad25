// dispose() is idempotent, detaches, clears timers, waits for a token call in flight,
// revokes (each dialect its own way), and leaves nothing that keeps the process alive.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { TokenError, TokenManager, memoryStore } from '../src';
import { startSimulator, type Simulator } from '../src/testing';
import { useFakeTime } from './helpers/fake-time';
import { DIALECTS, cleanup, providerFor, rig, settle, track } from './helpers/setup';

afterEach(cleanup);

const live = (manager: { handlers?: unknown[] }) => (manager.handlers ?? []).filter(Boolean).length;

describe.each(DIALECTS)('%s: dispose', (dialect) => {
  test('revokes the current token at the server, emits revoke then dispose, and is idempotent', async () => {
    const { sim, tokens, events } = await rig(dialect);
    const order: string[] = [];
    tokens.on('revoke', () => order.push('revoke'));
    tokens.on('dispose', () => order.push('dispose'));
    const token = await tokens.getToken();
    expect(sim.isLive(token)).toBe(true);
    const first = tokens.dispose();
    const second = tokens.dispose();
    expect(second).toBe(first);
    await Promise.all([first, second, tokens.dispose()]);
    expect(sim.isLive(token)).toBe(false);
    expect(sim.stats.revokeCalls).toBe(1);
    expect(events.revoke.map((t) => t.accessToken)).toEqual([token]);
    expect(order).toEqual(['revoke', 'dispose']);
    expect(tokens.listenerCount('refresh') + tokens.listenerCount('error')).toBe(0);
  });

  test('revoke: false keeps the token alive at the server', async () => {
    const { sim, tokens, events } = await rig(dialect);
    const token = await tokens.getToken();
    await tokens.dispose({ revoke: false });
    expect(sim.stats.revokeCalls).toBe(0);
    expect(sim.isLive(token)).toBe(true);
    expect(events.revoke).toHaveLength(0);
    expect(events.dispose).toBe(1);
  });
});

describe('after dispose, in simulated time', () => {
  const fake = useFakeTime(cleanup);
  const run = <T>(promise: Promise<T>) => fake.now().run(promise, 60_000, 10);

  test('interceptors give way to a guard, timers are cleared, and every call rejects with disposed', async () => {
    const { sim, tokens, api } = await rig('oauth2', { tokenLifetimeSeconds: 2 });
    await run(api.get('/x'));
    expect(live(api.interceptors.request as never)).toBe(1);
    await run(tokens.dispose());
    expect(live(api.interceptors.request as never)).toBe(1); // the guard (see contract.test.ts)
    expect(live(api.interceptors.response as never)).toBe(0);
    const calls = sim.stats.tokenCalls;
    await fake.now().advance(10_000); // far past the refresh point of a 2 s token
    expect(sim.stats.tokenCalls).toBe(calls);
    await expect(tokens.getToken()).rejects.toMatchObject({ code: 'disposed' });
    await expect(tokens.refresh()).rejects.toMatchObject({ code: 'disposed' });
    expect(() => tokens.attach(api)).toThrow(TokenError);
  });

  test('dispose during a token call waits for it, revokes what it brought, and rejects the waiters with disposed', async () => {
    const { sim, tokens, events } = await rig('crowdstrike', { latencyMs: 400 });
    const waiting = settle(tokens.getToken());
    await fake.now().advance(100, 10);
    await run(tokens.dispose());
    const outcome = await run(waiting);
    expect((outcome as { error: TokenError }).error.code).toBe('disposed');
    expect(sim.stats.tokensIssued).toBe(1);
    expect(sim.stats.tokensRevoked).toBe(1); // the token that arrived during dispose did not leak
    expect(events.revoke).toHaveLength(1);
  });

  test('dispose during a retry back-off stops it at once', async () => {
    const { sim, tokens } = await rig('oauth2', {}, { retry: { minTimeout: 30_000, maxTimeout: 30_000 } });
    sim.failNext(10, 500);
    const waiting = settle(tokens.getToken());
    await fake.now().advance(100, 10);
    const started = Date.now();
    await run(tokens.dispose());
    expect(Date.now() - started).toBeLessThanOrEqual(20); // no simulated time passes: nothing waited
    expect(((await run(waiting)) as { error: TokenError }).error.code).toBe('disposed');
    expect(sim.stats.tokenCalls).toBe(1);
  });

  test('dispose during a token call that hangs waits a second for it, then cuts it off', async () => {
    const { sim, tokens } = await rig('oauth2');
    sim.failNext(1, 'hang');
    const waiting = settle(tokens.getToken());
    await fake.now().advance(100, 10);
    const started = Date.now();
    await run(tokens.dispose());
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(1_000);
    expect(took).toBeLessThanOrEqual(1_020);
    expect(((await run(waiting)) as { error: TokenError }).error.code).toBe('disposed');
  });
});

describe('after dispose', () => {
  test('managers sharing a memory store marked shared do not revoke under each other', async () => {
    const { sim } = await rig('oauth2');
    const store = memoryStore({ shared: true });
    const a = new TokenManager({ provider: providerFor(sim), store });
    const b = new TokenManager({ provider: providerFor(sim), store });
    const token = await a.getToken();
    expect(await b.getToken()).toBe(token);
    await a.dispose();
    expect(sim.isLive(token)).toBe(true);
    await b.dispose({ revoke: true });
    expect(sim.isLive(token)).toBe(false);
  });

  test('await using disposes at the end of the block', async () => {
    const { sim } = await rig('oauth2');
    let token = '';
    {
      await using tokens = new TokenManager({ provider: providerFor(sim) });
      token = await tokens.getToken();
    }
    expect(sim.isLive(token)).toBe(false);
  });
});

describe('a script that disposes its manager exits on its own', () => {
  let sim: Simulator;
  beforeEach(async () => {
    sim = await startSimulator({ dialect: 'crowdstrike' });
    track(() => sim.close());
  });

  async function runScript(scenario: string): Promise<{ code: number | null; exitLagMs: number; stderr: string }> {
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures/dispose-and-exit.ts')], {
      env: { ...process.env, SIM_URL: sim.url, SIM_ID: sim.clientId, SIM_SECRET: sim.clientSecret, SCENARIO: scenario },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    const exitedAt = Date.now();
    clearTimeout(killer);
    const disposedAt = Number(/disposed (\d+)/.exec(stdout)?.[1] ?? NaN);
    return { code, exitLagMs: exitedAt - disposedAt, stderr };
  }

  test.each([
    ['after normal use', 'idle', () => undefined],
    ['when disposed during a token call', 'during-refresh', () => (sim.latencyMs = 1_000)],
    ['when disposed during a retry back-off', 'during-backoff', () => sim.failNext(50, 500)],
    ["even without dispose: the refresh timer is unref'd", 'no-dispose', () => undefined],
  ])('%s', async (_name, scenario, arrange) => {
    arrange();
    const { code, exitLagMs, stderr } = await runScript(scenario);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(exitLagMs).toBeLessThan(1_000);
  });
});
