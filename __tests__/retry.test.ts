// Behaviour 3: retries with p-retry, retry hints honoured, bad credentials never retried, no
// failure cached, and a failed background refresh that keeps the service running.
import { TokenError } from '../src';
import { retryAfterMs } from '../src/transport/retry-after';
import { DIALECTS, cleanup, rig, settle, sleep } from './helpers/setup';

afterEach(cleanup);

describe.each(DIALECTS)('%s: token endpoint failures', (dialect) => {
  test('5xx answers and dropped connections are retried until a token comes', async () => {
    const { sim, tokens, events } = await rig(dialect);
    sim.failNext(2, 500);
    sim.failNext(1, 'reset');
    sim.failNext(1, 503);
    await expect(tokens.getToken()).resolves.toEqual(expect.any(String));
    expect(sim.stats.tokenCalls).toBe(5);
    expect(events.error).toHaveLength(0); // the refresh as a whole succeeded
  });

  test('a 429 waits at least as long as the retry header says', async () => {
    const { sim, tokens } = await rig(dialect);
    sim.failNext(1, { rateLimitSeconds: 1 });
    await tokens.getToken();
    const [first, second] = sim.stats.tokenCallLog.map((call) => call.at);
    expect(sim.stats.tokenCalls).toBe(2);
    expect(second! - first!).toBeGreaterThanOrEqual(950);
  });

  test('bad credentials are not retried and reject at once with invalid_credentials', async () => {
    const { sim, tokens } = await rig(dialect, {}, { clientSecret: 'not-the-secret-at-all' });
    const outcome = await settle(tokens.getToken());
    expect(outcome.ok).toBe(false);
    const error = (outcome as { error: TokenError }).error;
    expect(error).toBeInstanceOf(TokenError);
    expect(error.code).toBe('invalid_credentials');
    expect(error.status).toBe(dialect === 'crowdstrike' ? 403 : 401);
    expect(error.providerMessage).toMatch(/authentication fail/i);
    expect(error.message).toMatch(/check the client id and secret/);
    expect(sim.stats.tokenCalls).toBe(1);
  });

  test('a failure is never cached: the next call after a failed refresh tries again', async () => {
    const { sim, tokens, events } = await rig(dialect, {}, { retry: { retries: 1, minTimeout: 10, maxTimeout: 10 } });
    sim.failNext(2, 500);
    const failed = await settle(tokens.getToken());
    expect(failed.ok).toBe(false);
    expect((failed as { error: TokenError }).error.code).toBe('server_error');
    expect(events.error.map((e) => e.code)).toEqual(['server_error']);
    await expect(tokens.getToken()).resolves.toEqual(expect.any(String));
    expect(sim.stats.tokenCalls).toBe(3);
  });

  test('a failed background refresh emits error, keeps serving the valid token, and succeeds before expiry', async () => {
    // One retry 20 ms apart within the refresh; the next refresh within a back-off step (1 s) or
    // half the token's remaining life, whichever is sooner (here about 0.8 s after the failure).
    const { sim, tokens, api, events } = await rig(dialect, { tokenLifetimeSeconds: 4 }, { retry: { retries: 1, minTimeout: 20, maxTimeout: 1_000, randomize: false } });
    const first = await tokens.getToken();
    const issued = events.refresh[0]!.token;
    // The whole first background refresh (2 attempts) fails. OneLogin revokes before it fetches;
    // a failed revoke is what leaves its old token alive (a failed fetch after a revoke cannot).
    if (dialect === 'onelogin') sim.failNextRevoke(2, 500);
    else sim.failNext(2, 500);
    await sleep(2_300);
    expect(events.error.map((e) => e.code)).toEqual(['server_error']);
    expect(await tokens.getToken()).toBe(first); // still valid, still served
    expect((await api.get('/x')).status).toBe(200);
    await sleep(1_200);
    expect(events.refresh.map((e) => e.reason)).toEqual(['initial', 'scheduled']);
    expect(events.refresh[1]!.token.issuedAt).toBeLessThan(issued.expiresAt);
    expect(await tokens.getToken()).not.toBe(first);
    expect(sim.stats.expiredTokenSends).toBe(0);
  });
});

test('the back-off grows exponentially, with jitter', async () => {
  // p-retry multiplies each delay by (1 + Math.random()) when randomize is on: pin it at 1.5.
  const random = jest.spyOn(Math, 'random').mockReturnValue(0.5);
  try {
    const { sim, tokens } = await rig('oauth2', {}, { retry: { retries: 4, minTimeout: 100, factor: 2, maxTimeout: 10_000, randomize: true } });
    sim.failNext(4, 500);
    await tokens.getToken();
    const at = sim.stats.tokenCallLog.map((call) => call.at);
    const gaps = at.slice(1).map((time, i) => time - at[i]!);
    expect(gaps).toHaveLength(4);
    gaps.forEach((gap, i) => {
      expect(gap).toBeGreaterThanOrEqual(150 * 2 ** i - 5); // 150, 300, 600, 1200 ms
      expect(gap).toBeLessThan(150 * 2 ** i + 200);
    });
    expect(random).toHaveBeenCalled();
  } finally {
    random.mockRestore();
  }
});

test('refreshes that keep failing wait longer and longer, even with callers waiting', async () => {
  const { sim, api } = await rig('oauth2', {}, { clientSecret: 'wrong-secret-to-fail', retry: { minTimeout: 150, maxTimeout: 5_000 } });
  const until = Date.now() + 2_500;
  while (Date.now() < until) {
    await settle(api.get('/x'));
    await sleep(20);
  }
  const at = sim.stats.tokenCallLog.map((call) => call.at);
  const gaps = at.slice(1).map((time, i) => time - at[i]!);
  // At least 150, 300, 600, 1200 ms apart: not a call every 150 ms (that would be ~16 calls).
  expect(at.length).toBeGreaterThanOrEqual(4);
  expect(at.length).toBeLessThanOrEqual(6);
  gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(150 * 2 ** i - 5));
});

test('onelogin: a 429 from the revoke endpoint holds the next rotation attempt back too', async () => {
  const { sim, tokens } = await rig('onelogin', {}, { retry: { retries: 1, minTimeout: 10, maxTimeout: 10 } });
  await tokens.getToken();
  sim.failNextRevoke(1, { rateLimitSeconds: 1 });
  const started = Date.now();
  await tokens.refresh(); // revoke (429), wait out the hint, revoke, fetch
  expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  expect(sim.stats.revokeCalls).toBe(2);
});

test('retry options: an undefined value means the default, and a throwing onFailedAttempt does not fail the refresh', async () => {
  let called = 0;
  const { sim, tokens } = await rig('oauth2', {}, {
    retry: {
      retries: undefined,
      minTimeout: 10,
      maxTimeout: 10,
      onFailedAttempt: () => {
        called++;
        throw new Error('callback bug');
      },
    },
  });
  sim.failNext(2, 500);
  await expect(tokens.getToken()).resolves.toEqual(expect.any(String));
  expect(sim.stats.tokenCalls).toBe(3);
  expect(called).toBe(2);
});

describe('why a token could not be had', () => {
  test('crowdstrike: an IP allowlist refusal is forbidden, not bad credentials, and is not retried', async () => {
    const { sim, tokens } = await rig('crowdstrike');
    sim.denyAccess = true;
    const outcome = await settle(tokens.getToken());
    expect((outcome as { error: TokenError }).error.code).toBe('forbidden');
    expect((outcome as { error: TokenError }).error.providerMessage).toBe('access denied, authorization failed');
    expect(sim.stats.tokenCalls).toBe(1);
  });

  test('a 429 that outlasts the retries rejects with rate_limited and the wait the server asked for', async () => {
    const { sim, tokens } = await rig('oauth2', {}, { retry: { retries: 0 } });
    sim.failNext(1, { rateLimitSeconds: 30 });
    const outcome = await settle(tokens.getToken());
    const error = (outcome as { error: TokenError }).error;
    expect(error.code).toBe('rate_limited');
    expect(error.retryAfterMs).toBe(30_000);
    expect(error.retryable).toBe(true);
  });

  test('the next caller after a 429 waits for the hint instead of calling at once', async () => {
    const { sim, tokens } = await rig('crowdstrike', {}, { retry: { retries: 0 } });
    sim.failNext(1, { rateLimitSeconds: 1 });
    await settle(tokens.getToken());
    await tokens.getToken();
    const [first, second] = sim.stats.tokenCallLog.map((call) => call.at);
    expect(second! - first!).toBeGreaterThanOrEqual(950);
  });
});

describe('retry hints', () => {
  const now = Date.parse('2026-11-22T12:00:00Z');

  test('CrowdStrike X-Ratelimit-Retryafter is Unix seconds, measured on the server clock', () => {
    expect(retryAfterMs({ 'x-ratelimit-retryafter': String(now / 1000 + 7) }, now)).toBe(7_000);
    // The server's clock is an hour ahead of ours: its Date header keeps the wait at 7 s.
    const serverNow = now + 3_600_000;
    const headers = { 'x-ratelimit-retryafter': String(serverNow / 1000 + 7), date: new Date(serverNow).toUTCString() };
    expect(retryAfterMs(headers, now)).toBe(7_000);
  });

  test('Retry-After in seconds or as an HTTP date; X-RateLimit-Reset as seconds remaining', () => {
    expect(retryAfterMs({ 'retry-after': '12' }, now)).toBe(12_000);
    expect(retryAfterMs({ 'retry-after': new Date(now + 5_000).toUTCString() }, now)).toBe(5_000);
    expect(retryAfterMs({ 'x-ratelimit-reset': '832' }, now)).toBe(832_000); // OneLogin's hourly window
    expect(retryAfterMs({ 'retry-after': String(5 * 86_400) }, now)).toBe(3_600_000); // nonsense: capped at 1 h
    expect(retryAfterMs({ 'x-ratelimit-reset': '3' }, now)).toBe(3_000);
    expect(retryAfterMs({ 'x-ratelimit-reset': String(now / 1000 + 4) }, now)).toBe(4_000); // epoch form
  });

  test('the longest hint wins; junk and the past give no wait', () => {
    expect(retryAfterMs({ 'retry-after': '2', 'x-ratelimit-reset': '5' }, now)).toBe(5_000);
    expect(retryAfterMs({ 'retry-after': 'soon' }, now)).toBeUndefined();
    expect(retryAfterMs({ 'x-ratelimit-retryafter': String(now / 1000 - 60) }, now)).toBe(0);
    expect(retryAfterMs({}, now)).toBeUndefined();
  });
});
