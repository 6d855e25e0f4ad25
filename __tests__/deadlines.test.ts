// Every token call and every refresh has a deadline. A body that trickles in, an
// endpoint that never answers, a fleet lock holder that hangs: callers get a typed error in bounded
// time, the next caller starts anew, and a recovered endpoint serves waiting callers promptly.
// Simulated time over real sockets (the servers run in this process, on the same fake clock).
import { TokenError, TokenManager, memoryStore, storeKey } from '../src';
import { startSimulator, type Simulator } from '../src/testing';
import { installFakeTime, watch, type FakeTime } from './helpers/fake-time';
import { providerFor } from './helpers/setup';

let time: FakeTime;
let sim: Simulator;
const managers: TokenManager[] = [];

beforeEach(async () => {
  time = installFakeTime();
  sim = await startSimulator({ dialect: 'oauth2' });
});
afterEach(async () => {
  for (const manager of managers.splice(0)) void manager.dispose({ revoke: false });
  await time.advance(1_500); // dispose's grace for a call in flight
  sim.releaseHung();
  time.uninstall();
  await sim.close();
});

function manager(options: Partial<ConstructorParameters<typeof TokenManager>[0]> = {}): TokenManager {
  const tokens = new TokenManager({ provider: providerFor(sim), ...options });
  tokens.on('error', () => undefined);
  managers.push(tokens);
  return tokens;
}

const codeOf = (error: unknown) => (error instanceof TokenError ? error.code : String(error));
const callTimes = () => sim.stats.tokenCallLog.map((call) => call.at - sim.stats.tokenCallLog[0]!.at);

test('a body that trickles in a byte a second: each call is cut at 10 s, the refresh at 30 s, and the next caller starts anew', async () => {
  sim.setFaultPolicy(() => 'drip');
  const tokens = manager();
  const waiting = watch(tokens.getToken());
  const took = await time.until(() => waiting.done, 60_000);
  expect(codeOf(waiting.error)).toBe('timeout');
  expect((waiting.error as TokenError).message).toMatch(/no token within 30000 ms \(refreshTimeoutMs\); the last attempt failed with timeout/);
  expect((waiting.error as TokenError).retryable).toBe(true);
  expect(took).toBeGreaterThanOrEqual(30_000);
  expect(took).toBeLessThanOrEqual(30_200);
  // Calls at 0 s, then each after the one before was cut off at 10 s and a back-off pause.
  const at = callTimes();
  expect(at.length).toBe(3);
  expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(10_000);
  expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(10_000);
  expect(sim.activeRequests).toBe(0); // the cut-off call's connection is closed, not left dripping
  // Nothing is lost: with the endpoint healthy again, the next caller gets a token.
  sim.setFaultPolicy(undefined);
  const next = watch(tokens.getToken());
  await time.until(() => next.done, 15_000);
  expect(next.value).toEqual(expect.any(String));
});

test('an endpoint that never answers is given up after refreshTimeoutMs, not after five 15-second tries', async () => {
  sim.setFaultPolicy(() => 'hang');
  const tokens = manager({ attemptTimeoutMs: 4_000, refreshTimeoutMs: 10_000 });
  const waiting = watch(tokens.getToken());
  const took = await time.until(() => waiting.done, 120_000);
  expect(codeOf(waiting.error)).toBe('timeout');
  expect(took).toBeGreaterThanOrEqual(10_000);
  expect(took).toBeLessThanOrEqual(10_200);
  // At 0 s and 4.5 to 5 s, and maybe once more just before the deadline: not five 15 s tries.
  expect(sim.stats.tokenCalls).toBeGreaterThanOrEqual(2);
  expect(sim.stats.tokenCalls).toBeLessThanOrEqual(3);
});

test('a retry.onFailedAttempt that never settles holds nothing up: the refresh meets its deadline, dispose finishes', async () => {
  sim.setFaultPolicy(() => 500);
  const tokens = manager({
    refreshTimeoutMs: 5_000,
    retry: { retries: 100, minTimeout: 100, maxTimeout: 100, onFailedAttempt: () => new Promise<void>(() => undefined) },
  });
  const waiting = watch(tokens.getToken());
  const took = await time.until(() => waiting.done, 20_000);
  expect(codeOf(waiting.error)).toBe('timeout');
  expect(took).toBeLessThanOrEqual(5_200);
  expect(sim.stats.tokenCalls).toBeGreaterThan(10); // the callback was not awaited between attempts
  const disposing = watch(tokens.dispose());
  await time.until(() => disposing.done, 5_000);
  expect(disposing.done).toBe(true);
});

test('a single token call is bounded by attemptTimeoutMs and retried', async () => {
  sim.failNext(1, 'drip');
  const tokens = manager({ attemptTimeoutMs: 2_000 });
  const waiting = watch(tokens.getToken());
  const took = await time.until(() => waiting.done, 30_000);
  expect(waiting.value).toEqual(expect.any(String));
  expect(took).toBeGreaterThanOrEqual(2_000);
  expect(took).toBeLessThan(4_500); // the cut, one back-off step (0.5 to 1 s), the second call
  expect(sim.stats.tokenCalls).toBe(2);
});

test('a lock holder that hangs: the others wait at most half of refreshTimeoutMs, then fetch for themselves; the holder gives the lock up', async () => {
  const store = memoryStore({ shared: true });
  // Every call hangs but the third: the holder's first two, then the other manager's own.
  sim.setFaultPolicy((call) => (call === 3 ? undefined : 'hang'));
  const holder = manager({ store });
  const other = manager({ store });
  const first = watch(holder.getToken());
  await time.advance(100); // the holder has the lock and its call is out
  const second = watch(other.getToken());
  await time.until(() => second.done, 30_000);
  expect(second.value).toEqual(expect.any(String));
  const started = sim.stats.tokenCallLog[0]!.at;
  const ownCall = sim.stats.tokenCallLog[2]!.at - started;
  expect(sim.stats.tokenCallLog[2]!.status).toBe(200);
  // It waited 15 s for the holder: not the 30 s lease of a lock nobody renews, nor for ever.
  expect(ownCall).toBeGreaterThanOrEqual(15_000);
  expect(ownCall).toBeLessThanOrEqual(15_400);
  // The holder's refresh hits its own deadline (30 s) and gives the lock up after a short pause.
  await time.until(() => first.done, 30_000);
  expect(codeOf(first.error)).toBe('timeout');
  expect(first.at! - started).toBeLessThanOrEqual(30_300);
  await time.advance(3_000);
  expect(await store.lock!(storeKey(providerFor(sim)))).toBeDefined();
});

test('waiting callers get a token within about 2 s of the endpoint recovering, and a failing endpoint is not hammered', async () => {
  const random = jest.spyOn(Math, 'random').mockReturnValue(0.5);
  try {
    const recoverAt = 20_000;
    sim.setFaultPolicy(() => (time.elapsed() < recoverAt ? 'reset' : undefined));
    const tokens = manager(); // default retry: 0.5 s doubling to 10 s, jittered
    // A service's requests: each caller waits for a token (or for the refresh to fail) and the
    // next one comes along 100 ms later.
    let got: number | undefined;
    let asking = false;
    const ask = () => {
      asking = true;
      tokens.getToken().then(
        () => void (got ??= time.elapsed()),
        () => void (asking = false),
      );
    };
    ask();
    while (got === undefined && time.elapsed() < 60_000) {
      await time.advance(100);
      if (!asking) ask();
    }
    expect(got).toBeDefined();
    expect(got! - recoverAt).toBeLessThanOrEqual(2_200);
    // One call per back-off step, at most one per 2 s once the steps reach it: not one per caller.
    const duringOutage = sim.stats.tokenCallLog.filter((call) => call.at - sim.stats.tokenCallLog[0]!.at < recoverAt).length;
    expect(duringOutage).toBeLessThanOrEqual(20);
    expect(duringOutage).toBeGreaterThanOrEqual(10);
  } finally {
    random.mockRestore();
  }
});

test('a background refresh with a still-valid token backs off to maxTimeout: the 2 s cap is for waiting callers only', async () => {
  sim.tokenLifetimeSeconds = 120; // refreshed in the background after 60 s, usable until 115 s
  const tokens = manager({ retry: { retries: 10, minTimeout: 1_000, maxTimeout: 8_000, randomize: false } });
  const first = watch(tokens.getToken());
  await time.until(() => first.done, 5_000);
  sim.setFaultPolicy(() => 'reset');
  await time.advance(100_000, 100);
  const at = callTimes().slice(1);
  const gaps = at.slice(1).map((t, i) => t - at[i]!);
  expect(at[0]).toBeGreaterThanOrEqual(59_000);
  for (const [i, gap] of [1_000, 2_000, 4_000, 8_000, 8_000].entries()) {
    expect(gaps[i]).toBeGreaterThanOrEqual(gap);
    expect(gaps[i]).toBeLessThanOrEqual(gap + 300);
  }
});
