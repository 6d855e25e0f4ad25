// Retries with p-retry, retry hints honoured, bad credentials never retried, no
// failure cached, and a failed background refresh that keeps the service running. In simulated
// time: pauses are measured exactly, not waited out.
import { TokenError, TokenManager } from '../src';
import { retryAfterMs } from '../src/transport/retry-after';
import { useFakeTime } from './helpers/fake-time';
import { DIALECTS, cleanup, rig, settle } from './helpers/setup';

const fake = useFakeTime(cleanup);
const run = <T>(promise: Promise<T>) => fake.now().run(promise, 120_000, 10);
const gapsOf = (at: number[]) => at.slice(1).map((time, i) => time - at[i]!);

describe.each(DIALECTS)('%s: token endpoint failures', (dialect) => {
  test('5xx answers and dropped connections are retried until a token comes', async () => {
    const { sim, tokens, events } = await rig(dialect);
    sim.failNext(2, 500);
    sim.failNext(1, 'reset');
    sim.failNext(1, 503);
    await expect(run(tokens.getToken())).resolves.toEqual(expect.any(String));
    expect(sim.stats.tokenCalls).toBe(5);
    expect(events.error).toHaveLength(0); // the refresh as a whole succeeded
  });

  test('a 429 waits at least as long as the retry header says', async () => {
    const { sim, tokens } = await rig(dialect);
    sim.failNext(1, { rateLimitSeconds: 1 });
    await run(tokens.getToken());
    const [first, second] = sim.stats.tokenCallLog.map((call) => call.at);
    expect(sim.stats.tokenCalls).toBe(2);
    expect(second! - first!).toBeGreaterThanOrEqual(1_000);
    // CrowdStrike's hint is a whole Unix second (rounded up): up to 2 s; not a back-off on top.
    expect(second! - first!).toBeLessThanOrEqual(2_020);
  });

  test('bad credentials are not retried and reject at once with invalid_credentials', async () => {
    const { sim, tokens } = await rig(dialect, {}, { clientSecret: 'not-the-secret-at-all' });
    const outcome = await run(settle(tokens.getToken()));
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
    const failed = await run(settle(tokens.getToken()));
    expect(failed.ok).toBe(false);
    expect((failed as { error: TokenError }).error.code).toBe('server_error');
    expect(events.error.map((e) => e.code)).toEqual(['server_error']);
    await expect(run(tokens.getToken())).resolves.toEqual(expect.any(String));
    expect(sim.stats.tokenCalls).toBe(3);
  });

  test('a failed background refresh emits error, keeps serving the valid token, and succeeds before expiry', async () => {
    // One retry 20 ms apart within the refresh; the next refresh within a back-off step (1 s) or
    // half the token's remaining life, whichever is sooner (here 0.5 s after the failure).
    const { sim, tokens, api, events } = await rig(
      dialect,
      { tokenLifetimeSeconds: 4 },
      { retry: { retries: 1, minTimeout: 20, maxTimeout: 1_000, randomize: false } },
    );
    const first = await run(tokens.getToken());
    const issued = events.refresh[0]!.token;
    // The whole first background refresh (2 attempts) fails. OneLogin revokes before it fetches;
    // a failed revoke is what leaves its old token alive (a failed fetch after a revoke cannot).
    const failNext = dialect === 'onelogin' ? sim.failNextRevoke.bind(sim) : sim.failNext.bind(sim);
    failNext(2, 500);
    await fake.now().advance(2_300, 10);
    expect(events.error.map((e) => e.code)).toEqual(['server_error']);
    expect(await run(tokens.getToken())).toBe(first); // still valid, still served
    expect((await run(api.get('/x'))).status).toBe(200);
    await fake.now().advance(1_200, 10);
    expect(events.refresh.map((e) => e.reason)).toEqual(['initial', 'scheduled']);
    expect(events.refresh[1]!.token.issuedAt).toBeLessThan(issued.expiresAt - 1_000); // before its margin
    expect(await run(tokens.getToken())).not.toBe(first);
    expect(sim.stats.expiredTokenSends).toBe(0);
  });
});

test('the back-off grows exponentially, with jitter', async () => {
  // Each pause is minTimeout * factor^n * (1 + random): the random source pinned at 0.5.
  const { sim, tokens } = await rig(
    'oauth2',
    {},
    { random: () => 0.5, retry: { retries: 4, minTimeout: 100, factor: 2, maxTimeout: 10_000, randomize: true } },
  );
  sim.failNext(4, 500);
  await run(tokens.getToken());
  const gaps = gapsOf(sim.stats.tokenCallLog.map((call) => call.at));
  expect(gaps).toHaveLength(4);
  gaps.forEach((gap, i) => {
    expect(gap).toBeGreaterThanOrEqual(150 * 2 ** i); // 150, 300, 600, 1200 ms
    expect(gap).toBeLessThanOrEqual(150 * 2 ** i + 20);
  });
});

test('refreshes that keep failing wait longer and longer, even with callers waiting', async () => {
  const { sim, api } = await rig('oauth2', {}, { clientSecret: 'wrong-secret-to-fail', retry: { minTimeout: 150, maxTimeout: 5_000 } });
  const time = fake.now();
  while (time.elapsed() < 2_500) {
    await run(settle(api.get('/x')));
    await time.advance(20, 10);
  }
  const at = sim.stats.tokenCallLog.map((call) => call.at);
  // At least 150, 300, 600, 1200 ms apart: not a call every 150 ms (that would be ~16 calls).
  expect(at.length).toBeGreaterThanOrEqual(4);
  expect(at.length).toBeLessThanOrEqual(5);
  gapsOf(at).forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(150 * 2 ** i));
});

test('onelogin: a 429 from the revoke endpoint holds the next rotation attempt back too', async () => {
  const { sim, tokens } = await rig('onelogin', {}, { retry: { retries: 1, minTimeout: 10, maxTimeout: 10 } });
  await run(tokens.getToken());
  sim.failNextRevoke(1, { rateLimitSeconds: 1 });
  const started = Date.now();
  await run(tokens.refresh()); // revoke (429), wait out the hint, revoke, fetch
  expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  expect(sim.stats.revokeCalls).toBe(2);
});

test('retry options: an undefined value means the default, and a throwing onFailedAttempt does not fail the refresh', async () => {
  let called = 0;
  const { sim, tokens } = await rig(
    'oauth2',
    {},
    {
      retry: {
        retries: undefined,
        minTimeout: 10,
        maxTimeout: 10,
        onFailedAttempt: () => {
          called++;
          throw new Error('callback bug');
        },
      },
    },
  );
  sim.failNext(2, 500);
  await expect(run(tokens.getToken())).resolves.toEqual(expect.any(String));
  expect(sim.stats.tokenCalls).toBe(3);
  expect(called).toBe(2);
});

describe('why a token could not be had', () => {
  test('crowdstrike: an IP allowlist refusal is forbidden, not bad credentials, and is not retried', async () => {
    const { sim, tokens } = await rig('crowdstrike');
    sim.denyAccess = true;
    const outcome = await run(settle(tokens.getToken()));
    expect((outcome as { error: TokenError }).error.code).toBe('forbidden');
    expect((outcome as { error: TokenError }).error.providerMessage).toBe('access denied, authorization failed');
    expect(sim.stats.tokenCalls).toBe(1);
  });

  test('a 429 that outlasts the retries rejects with rate_limited and the wait the server asked for', async () => {
    const { sim, tokens } = await rig('oauth2', {}, { retry: { retries: 0 } });
    sim.failNext(1, { rateLimitSeconds: 30 });
    const outcome = await run(settle(tokens.getToken()));
    const error = (outcome as { error: TokenError }).error;
    expect(error.code).toBe('rate_limited');
    expect(error.retryAfterMs).toBe(30_000);
    expect(error.retryable).toBe(true);
  });

  test('the next caller after a 429 waits for the hint instead of calling at once', async () => {
    const { sim, tokens } = await rig('crowdstrike', {}, { retry: { retries: 0 } });
    sim.failNext(1, { rateLimitSeconds: 1 });
    await run(settle(tokens.getToken()));
    await run(tokens.getToken());
    const [first, second] = sim.stats.tokenCallLog.map((call) => call.at);
    expect(second! - first!).toBeGreaterThanOrEqual(1_000);
  });

  test('an OAuth 2.0 error code is kept as oauthError; an unexpected throw is internal, not the server', async () => {
    const { sim, tokens } = await rig('oauth2', {}, { retry: { retries: 0 } });
    sim.failNext(1, { status: 400, body: JSON.stringify({ error: 'invalid_scope', error_description: 'no such scope' }) });
    const scope = (await run(settle(tokens.getToken()))) as { error: TokenError };
    expect(scope.error).toMatchObject({ code: 'forbidden', oauthError: 'invalid_scope', providerMessage: 'invalid_scope: no such scope' });
    const broken = {
      ...sim,
      name: 'broken',
      baseUrl: undefined,
      identity: 'broken',
      fetchToken: () => Promise.reject(new RangeError('detail-that-must-not-show-0451')),
    };
    const manager = new TokenManager({ provider: broken, retry: { retries: 0 } });
    manager.on('error', () => undefined);
    const outcome = (await run(settle(manager.getToken()))) as { error: TokenError };
    expect(outcome.error.code).toBe('internal');
    expect(outcome.error.message).toMatch(/unexpected RangeError/);
    expect(outcome.error.message).not.toMatch(/detail-that-must-not-show/);
    expect(outcome.error.retryable).toBe(false);
    await run(manager.dispose());
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
