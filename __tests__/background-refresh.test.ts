// Behaviour 2 (proactive background refresh, checked again at every use) and 10 (unit-safe time).
import { DIALECTS, cleanup, rig, sleep } from './helpers/setup';

afterEach(cleanup);

describe.each(DIALECTS)('%s: background refresh', (dialect) => {
  test('a 4-second token is refreshed by the timer after about 2 s, with no traffic at all', async () => {
    const { sim, tokens, events } = await rig(dialect, { tokenLifetimeSeconds: 4 });
    await tokens.getToken();
    await sleep(2_900);
    expect(sim.stats.tokenCalls).toBe(2);
    expect(events.refresh.map((e) => e.reason)).toEqual(['initial', 'scheduled']);
    const [first, second] = events.refresh.map((e) => e.token);
    const gap = second!.issuedAt - first!.issuedAt;
    expect(gap).toBeGreaterThanOrEqual(1_900);
    expect(gap).toBeLessThan(3_000); // a loaded machine fires timers late; 4 s would mean no early refresh
  });
});

// OneLogin must revoke before it can rotate, which costs one token call: see onelogin.test.ts.
describe.each(['crowdstrike', 'oauth2'] as const)('%s: refresh never stalls a request', (dialect) => {
  test('after the first token no request waits for the token endpoint, even a slow one', async () => {
    // Token calls take 1 s; a request that waited for one would take at least that long.
    const { sim, tokens, api } = await rig(dialect, { tokenLifetimeSeconds: 4, latencyMs: 1_000 });
    await tokens.getToken();
    const durations: number[] = [];
    const until = Date.now() + 6_000;
    while (Date.now() < until) {
      const started = performance.now();
      const response = await api.get('/devices/queries/devices/v1');
      expect(response.status).toBe(200);
      durations.push(performance.now() - started);
      await sleep(50);
    }
    expect(sim.stats.tokenCalls).toBeGreaterThanOrEqual(3); // refreshes did happen during the traffic
    expect(Math.max(...durations)).toBeLessThan(900); // waiting for a token call takes 1000 ms at least
    expect(sim.stats.expiredTokenSends).toBe(0);
    expect(sim.stats.api401).toBe(0);
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

describe('unit-safe time', () => {
  test.each(DIALECTS)('%s: expiresAt counts from when the request was sent, not when it arrived', async (dialect) => {
    const { tokens, events } = await rig(dialect, { tokenLifetimeSeconds: 120, latencyMs: 1_500 });
    const sentNoEarlierThan = Date.now();
    await tokens.getToken();
    const arrived = Date.now();
    const token = events.refresh[0]!.token;
    expect(arrived - sentNoEarlierThan).toBeGreaterThanOrEqual(1_450);
    expect(token.issuedAt).toBeGreaterThanOrEqual(sentNoEarlierThan);
    expect(token.issuedAt).toBeLessThan(sentNoEarlierThan + 500);
    expect(token.expiresAt - token.issuedAt).toBe(120_000); // seconds, not ms
    expect(token.expiresAt).toBeLessThan(arrived + 120_000 - 1_000);
  });
});
