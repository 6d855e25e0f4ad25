// Proactive background refresh, checked again at every use and unit-safe time.
import { useFakeTime } from './helpers/fake-time';
import { TokenManager, memoryStore } from '../src';
import { startSimulator } from '../src/testing';
import { DIALECTS, cleanup, providerFor, record, rig, track } from './helpers/setup';

afterEach(cleanup);

// Time is the subject here: simulated, over real sockets.
describe('in simulated time', () => {
  const fake = useFakeTime(cleanup);

  describe.each(DIALECTS)('%s: background refresh', (dialect) => {
    test('a 4-second token is refreshed by the timer after 2 s, with no traffic at all', async () => {
      const { sim, tokens, events } = await rig(dialect, { tokenLifetimeSeconds: 4 });
      await fake.now().run(tokens.getToken());
      await fake.now().advance(2_900);
      expect(sim.stats.tokenCalls).toBe(2);
      expect(events.refresh.map((e) => e.reason)).toEqual(['initial', 'scheduled']);
      const [first, second] = events.refresh.map((e) => e.token);
      const gap = second!.issuedAt - first!.issuedAt;
      expect(gap).toBeGreaterThanOrEqual(2_000); // half the lifetime, the window's cap
      expect(gap).toBeLessThanOrEqual(2_050); // one step of the simulated clock
    });
  });

  // OneLogin must revoke before it can rotate, which costs one token call: see onelogin.test.ts.
  describe.each(['crowdstrike', 'oauth2'] as const)('%s: refresh never stalls a request', (dialect) => {
    test('after the first token no request waits for the token endpoint, even a slow one', async () => {
      // Token calls take 1 s; a request that waited for one would take at least that long.
      const { sim, tokens, api } = await rig(dialect, { tokenLifetimeSeconds: 4, latencyMs: 1_000 });
      const time = fake.now();
      await time.run(tokens.getToken());
      const durations: number[] = [];
      while (time.elapsed() < 7_000) {
        const started = Date.now();
        const response = await time.run(api.get('/devices/queries/devices/v1'), 5_000, 10);
        expect(response.status).toBe(200);
        durations.push(Date.now() - started);
        await time.advance(50, 10);
      }
      expect(sim.stats.tokenCalls).toBeGreaterThanOrEqual(3); // refreshes did happen during the traffic
      expect(Math.max(...durations)).toBeLessThan(900); // waiting for a token call takes 1000 ms at least
      expect(sim.stats.expiredTokenSends).toBe(0);
      expect(sim.stats.api401).toBe(0);
    });
  });

  test('with a shared store, refresh moments are jittered (up to a quarter of the window earlier)', async () => {
    const gapFor = async (random: number) => {
      const sim = await startSimulator({ dialect: 'oauth2', tokenLifetimeSeconds: 4 });
      track(() => sim.close());
      const tokens = new TokenManager({ provider: providerFor(sim), store: memoryStore({ shared: true }), random: () => random });
      track(() => tokens.dispose());
      const events = record(tokens);
      await fake.now().run(tokens.getToken());
      await fake.now().until(() => events.refresh.length >= 2, 10_000, 5);
      return events.refresh[1]!.token.issuedAt - events.refresh[0]!.token.issuedAt;
    };
    const latest = await gapFor(0);
    const earliest = await gapFor(0.999);
    // 4 s tokens: refreshed 2 s before expiry, never in the last 1 s: a spread of up to 0.25 s.
    expect(latest).toBeGreaterThanOrEqual(2_000);
    expect(latest).toBeLessThanOrEqual(2_010);
    expect(latest - earliest).toBeGreaterThanOrEqual(240);
    expect(latest - earliest).toBeLessThanOrEqual(255);
  });

  test.each(DIALECTS)('%s: expiresAt counts from when the request was sent, not when it arrived', async (dialect) => {
    const { tokens, events } = await rig(dialect, { tokenLifetimeSeconds: 120, latencyMs: 1_500 });
    const sent = Date.now();
    await fake.now().run(tokens.getToken(), 5_000, 10);
    const arrived = Date.now();
    const token = events.refresh[0]!.token;
    expect(arrived - sent).toBeGreaterThanOrEqual(1_500);
    expect(token.issuedAt).toBeGreaterThanOrEqual(sent);
    expect(token.issuedAt).toBeLessThanOrEqual(sent + 20); // sent within a clock step or two, answered 1.5 s later
    expect(token.expiresAt - token.issuedAt).toBe(120_000); // seconds, not ms
    expect(token.expiresAt).toBeLessThanOrEqual(arrived + 120_000 - 1_500);
  });
});

describe('expiry is checked at every use, on two clocks', () => {
  function jumpingClock() {
    const offsets = { wall: 0, mono: 0 };
    return {
      offsets,
      clock: { now: () => Date.now() + offsets.wall, monotonic: () => performance.now() + offsets.mono },
    };
  }

  test('after a laptop sleep (wall clock jumps, monotonic time stood still) the old token is not sent', async () => {
    const { offsets, clock } = jumpingClock();
    const { sim, tokens, api } = await rig('crowdstrike', { tokenLifetimeSeconds: 1799 }, { clock });
    const before = await tokens.getToken();
    offsets.wall = 3_600_000; // an hour asleep; no timer has fired
    const response = await api.get('/devices/queries/devices/v1');
    expect(response.config.headers.Authorization).not.toBe(`Bearer ${before}`);
    expect(sim.stats.tokenCalls).toBe(2);
  });

  test('a wall clock set back an hour does not stretch a token past its monotonic lifetime', async () => {
    const { offsets, clock } = jumpingClock();
    const { sim, tokens, api } = await rig('oauth2', { tokenLifetimeSeconds: 60 }, { clock });
    const before = await tokens.getToken();
    offsets.wall = -3_600_000; // NTP pulls the wall clock back...
    offsets.mono = 61_000; // ...while a minute really passes (a frozen container, timers late)
    const response = await api.get('/x');
    expect(response.config.headers.Authorization).not.toBe(`Bearer ${before}`);
    expect(sim.stats.tokenCalls).toBe(2);
  });

  test('a timer that fires late never lets the token out: the request waits for a new one instead', async () => {
    const { offsets, clock } = jumpingClock();
    const { sim, tokens, api } = await rig('crowdstrike', { tokenLifetimeSeconds: 600 }, { clock });
    const before = await tokens.getToken();
    offsets.wall = offsets.mono = 599_000; // both clocks say: 1 s left, below the 5 s margin
    const response = await api.get('/devices/queries/devices/v1');
    expect(response.status).toBe(200);
    expect(response.config.headers.Authorization).not.toBe(`Bearer ${before}`);
    expect(sim.stats.tokenCalls).toBe(2);
  });
});
