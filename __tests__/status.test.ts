// status(): the state a readiness probe reads and the numbers a dashboard shows, moved through a
// token's life against the simulator in simulated time, with nothing secret in it.
import { useFakeTime } from './helpers/fake-time';
import { TokenPool, crowdstrike, type TokenManager, type TokenStatus } from '../src';
import { startSimulator } from '../src/testing';
import { FAST_RETRY, cleanup, rig, track } from './helpers/setup';

afterEach(cleanup);

describe('in simulated time', () => {
  const fake = useFakeTime(cleanup);

  /** The status, after checking it names no token and no secret. */
  function statusOf(tokens: TokenManager, secrets: string[]): TokenStatus {
    const status = tokens.status();
    const text = JSON.stringify(status);
    for (const secret of secrets) expect(text).not.toContain(secret);
    return status;
  }

  test('starting, ready, refreshing, degraded, failed, ready again, disposed: with the numbers of each', async () => {
    const { sim, tokens } = await rig('oauth2', { tokenLifetimeSeconds: 10, latencyMs: 200 });
    const time = fake.now();
    const seen: string[] = [sim.clientSecret];
    const status = () => statusOf(tokens, seen);

    expect(status()).toEqual({ state: 'starting', usable: false, consecutiveFailures: 0, tokenCalls: 0 });

    const first = await time.run(tokens.getToken());
    seen.push(first);
    const ready = status();
    expect(ready).toMatchObject({ state: 'ready', usable: true, consecutiveFailures: 0, tokenCalls: 1, lastRefresh: { reason: 'initial' } });
    expect(ready.expiresAt! - Date.now()).toBeGreaterThan(9_000);
    expect(ready.expiresInMs).toBe(ready.expiresAt! - Date.now());
    expect(ready.nextRefreshAt).toBeGreaterThan(Date.now());
    expect(ready.nextRefreshAt).toBeLessThan(ready.expiresAt!);
    expect(ready.lastError).toBeUndefined();

    // A manual refresh in flight: still usable meanwhile.
    const manual = tokens.refresh();
    expect(status()).toMatchObject({ state: 'refreshing', usable: true });
    seen.push((await time.run(manual)).accessToken);
    expect(status()).toMatchObject({ state: 'ready', tokenCalls: 2, lastRefresh: { reason: 'manual', at: Date.now() } });

    // The endpoint fails from now on: the background refresh fails while the token lasts.
    sim.setFaultPolicy(() => 500);
    await time.until(() => tokens.status().consecutiveFailures > 0, 10_000, 20);
    const degraded = status();
    expect(degraded).toMatchObject({ state: 'degraded', usable: true, lastError: { code: 'server_error' } });
    expect(degraded.lastError!.at).toBeLessThanOrEqual(Date.now());
    expect(degraded.tokenCalls).toBeGreaterThan(2); // retries are token calls too

    // Past its use-until moment with the endpoint still failing: no token to send.
    await time.until(() => !tokens.status().usable && tokens.status().state !== 'refreshing', 15_000, 20);
    const failed = status();
    expect(failed.state).toBe('failed');
    expect(failed.consecutiveFailures).toBeGreaterThan(1);

    // The endpoint recovers: the next caller gets a token and the failures are forgotten.
    sim.setFaultPolicy(undefined);
    seen.push(await time.run(tokens.getToken()));
    expect(status()).toMatchObject({ state: 'ready', usable: true, consecutiveFailures: 0, lastRefresh: { reason: 'expired' } });
    expect(status().lastError?.code).toBe('server_error'); // the last error stays for the record

    await time.run(tokens.dispose({ revoke: false }));
    const disposed = status();
    expect(disposed).toMatchObject({ state: 'disposed', usable: false });
    expect(disposed.expiresAt).toBeUndefined();
    expect(disposed.nextRefreshAt).toBeUndefined();
  });

  test('a refused client secret: failed, with the code to fix and a message that quotes nothing of the server', async () => {
    const { tokens, sim } = await rig('crowdstrike', {}, { clientSecret: 'not-the-secret' });
    await expect(fake.now().run(tokens.getToken())).rejects.toMatchObject({ code: 'invalid_credentials' });
    const status = statusOf(tokens, ['not-the-secret', sim.clientSecret]);
    expect(status).toMatchObject({ state: 'failed', usable: false, consecutiveFailures: 1, tokenCalls: 1, lastError: { code: 'invalid_credentials' } });
  });

  test('a pool: each key and the worst of them, counted by state', async () => {
    const [childA, refused] = ['a1b2c3d4e5f60718293a4b5c6d7e8f90', 'f1b2c3d4e5f60718293a4b5c6d7e8f90'];
    const sim = await startSimulator({ dialect: 'crowdstrike', memberCids: [childA] });
    track(() => sim.close());
    const pool = new TokenPool({
      provider: (cid: string) => crowdstrike({ clientId: sim.clientId, clientSecret: sim.clientSecret, baseUrl: sim.url, memberCid: cid }),
      retry: FAST_RETRY,
    });
    track(() => pool.dispose({ revoke: false }));
    expect(pool.status()).toEqual({
      state: 'ready',
      children: 0,
      states: { starting: 0, ready: 0, refreshing: 0, degraded: 0, failed: 0, disposed: 0 },
      keys: {},
    });

    await fake.now().run(pool.get(childA).getToken());
    await expect(fake.now().run(pool.get(refused).getToken())).rejects.toMatchObject({ code: 'forbidden' });
    const status = pool.status();
    expect(status.state).toBe('failed');
    expect(status.children).toBe(2);
    expect(status.states).toMatchObject({ ready: 1, failed: 1 });
    expect(status.keys[childA]).toMatchObject({ state: 'ready', tokenCalls: 1 });
    expect(status.keys[refused]).toMatchObject({ state: 'failed', lastError: { code: 'forbidden' } });
    expect(JSON.stringify(status)).not.toContain(sim.clientSecret);

    await fake.now().run(pool.dispose({ revoke: false }));
    expect(pool.status().state).toBe('disposed');
  });
});
