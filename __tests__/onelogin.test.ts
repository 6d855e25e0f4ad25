// OneLogin returns the same token until it expires or is revoked.
import { TokenManager, onelogin, type TokenProvider } from '../src';
import { useFakeTime } from './helpers/fake-time';
import { cleanup, record, rig, track } from './helpers/setup';
import { startSimulator } from '../src/testing';

// Rotations are a matter of time: simulated, over real sockets.
const fake = useFakeTime(cleanup);
const run = <T>(promise: Promise<T>) => fake.now().run(promise, 120_000, 10);

describe('onelogin same-token reuse', () => {
  test('the simulator really does hand out the same token until it is revoked', async () => {
    const sim = await startSimulator({ dialect: 'onelogin', tokenLifetimeSeconds: 60 });
    track(() => sim.close());
    const provider = onelogin({ clientId: sim.clientId, clientSecret: sim.clientSecret, baseUrl: sim.url });
    // A provider that ignores the token it replaces: it is simply handed the old one again.
    const plain = new TokenManager({ provider: { ...provider, fetchToken: (context) => provider.fetchToken(context) } });
    track(() => plain.dispose({ revoke: false }));
    const a = await run(plain.getToken());
    const b = (await run(plain.refresh())).accessToken;
    expect(b).toBe(a);
  });

  test('rotation ahead of expiry revokes the old token and gets a new one, without looping', async () => {
    const { sim, tokens, api, events } = await rig('onelogin', { tokenLifetimeSeconds: 4 });
    await run(tokens.getToken());
    while (fake.now().elapsed() < 7_000) {
      expect((await run(api.get('/api/2/users'))).status).toBe(200);
      await fake.now().advance(100, 10);
    }
    const issued = events.refresh.map((e) => e.token.accessToken);
    expect(new Set(issued).size).toBe(issued.length); // every refresh brought a new token
    expect(issued.length).toBeGreaterThanOrEqual(3);
    expect(sim.stats.tokenCalls).toBe(issued.length); // one call per token: no loop on the same one
    expect(sim.stats.revokeCalls).toBe(issued.length - 1); // each rotation revoked its predecessor
    expect(issued.slice(0, -1).every((token) => !sim.isLive(token))).toBe(true);
    expect(sim.stats.expiredTokenSends).toBe(0);
  });

  test('a request in flight during the swap is covered by the 401 replay', async () => {
    const { sim, tokens, api } = await rig('onelogin', { apiLatencyMs: 300 });
    const first = await run(tokens.getToken());
    const inFlight = api.get('/api/2/users'); // leaves with the first token, held 300 ms at the server
    await fake.now().advance(50, 10);
    const second = await run(tokens.refresh()); // revokes the first, fetches the second
    expect(second.accessToken).not.toBe(first);
    const response = await run(inFlight);
    expect(response.status).toBe(200);
    expect(response.config.headers.Authorization).toBe(`Bearer ${second.accessToken}`);
    expect(sim.stats.api401).toBe(1);
    expect(sim.stats.tokenCalls).toBe(2); // the 401 was for the old token: no extra call
  });

  test('a rotation stalls requests for one token call at most, and only while it swaps', async () => {
    const { sim, tokens, api } = await rig('onelogin', { tokenLifetimeSeconds: 4, latencyMs: 1_000 });
    await run(tokens.getToken());
    const durations: number[] = [];
    while (fake.now().elapsed() < 6_000) {
      const started = performance.now();
      expect((await run(api.get('/api/2/users'))).status).toBe(200);
      durations.push(performance.now() - started);
      await fake.now().advance(50, 10);
    }
    const rotations = sim.stats.revokeCalls;
    expect(rotations).toBeGreaterThanOrEqual(1);
    expect(Math.max(...durations)).toBeLessThan(1_900); // one token call (1 s), never revoke + token call (2 s)
    expect(durations.filter((d) => d > 500).length).toBeLessThanOrEqual(rotations);
    expect(sim.stats.expiredTokenSends).toBe(0);
  });

  test('a server that keeps returning the same token, with no way to revoke it, is not asked in a loop', async () => {
    const sim = await startSimulator({ dialect: 'onelogin', tokenLifetimeSeconds: 4 });
    track(() => sim.close());
    const real = onelogin({ clientId: sim.clientId, clientSecret: sim.clientSecret, baseUrl: sim.url });
    // A provider that does not know about the reuse and cannot revoke.
    const naive: TokenProvider = { name: 'naive', baseUrl: real.baseUrl, identity: 'naive', fetchToken: (context) => real.fetchToken(context) };
    const tokens = new TokenManager({ provider: naive });
    track(() => tokens.dispose());
    const events = record(tokens);
    await run(tokens.getToken());
    await fake.now().advance(4_500, 10);
    // Without the guard the refresh timer would fire again at once, thousands of times.
    expect(sim.stats.tokenCalls).toBeLessThanOrEqual(8);
    expect(await run(tokens.getToken())).toEqual(expect.any(String));
    expect(events.error.filter((e) => e.code !== 'invalid_response')).toEqual([]);
  });
});
