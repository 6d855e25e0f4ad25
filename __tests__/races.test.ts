// Abort and dispose races. A caller's abort ends its own wait only; dispose in the middle of a
// refresh, a back-off or a 401 replay leaves no promise pending and nothing unhandled. In simulated
// time: "pending" means still pending after simulated seconds, however loaded the machine.
import { TokenError } from '../src';
import { installFakeTime, type FakeTime } from './helpers/fake-time';
import { cleanup, rig, settle } from './helpers/setup';

let time: FakeTime;
let unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);
beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
  time = installFakeTime();
});
afterEach(async () => {
  try {
    await time.run(cleanup(), 30_000);
    await time.advance(20); // let any stray rejection surface
  } finally {
    time.uninstall();
    process.off('unhandledRejection', onUnhandled);
  }
  expect(unhandled).toEqual([]);
});

const sleep = (ms: number) => time.advance(ms, 10);

type Outcome = { ok: boolean; error?: unknown };

/** Observe a promise from the moment it exists, as a caller awaiting it would. */
const observe = (promise: Promise<unknown>): Promise<Outcome> => settle(promise);

/** Every outcome arrives within 3 simulated seconds: nothing is left pending. */
function allSettle(outcomes: Promise<Outcome>[]): Promise<Outcome[]> {
  return time.run(Promise.all(outcomes), 3_000, 10);
}

test("aborting one caller's wait leaves the shared refresh and the other callers alone", async () => {
  const { sim, tokens, events } = await rig('crowdstrike', { latencyMs: 300 });
  const controllers = Array.from({ length: 5 }, () => new AbortController());
  const waits = controllers.map((controller) => observe(tokens.getToken({ signal: controller.signal })));
  const patient = Array.from({ length: 5 }, () => observe(tokens.getToken()));
  await sleep(50);
  controllers.forEach((controller) => controller.abort(new Error('user went away')));
  const aborted = await allSettle(waits);
  expect(aborted.every((r) => !r.ok && r.error instanceof TokenError && r.error.code === 'aborted')).toBe(true);
  expect((aborted[0]!.error as TokenError).message).toMatch(/user went away/);
  const served = await allSettle(patient);
  expect(served.every((r) => r.ok)).toBe(true);
  expect(sim.stats.tokenCalls).toBe(1);
  expect(events.refresh).toHaveLength(1);
});

test('dispose during a refresh: every waiter and request settles with disposed', async () => {
  const { tokens, api } = await rig('oauth2', { latencyMs: 300 });
  const pending = [...Array.from({ length: 10 }, () => tokens.getToken()), ...Array.from({ length: 10 }, () => api.get('/x')), tokens.refresh()].map(observe);
  await sleep(50);
  await time.run(tokens.dispose());
  const results = await allSettle(pending);
  expect(results.every((r) => !r.ok && (r.error as TokenError).code === 'disposed')).toBe(true);
});

test('dispose during a retry back-off: every waiter and request settles with disposed, at once', async () => {
  const { sim, tokens, api } = await rig('onelogin', {}, { retry: { minTimeout: 60_000, maxTimeout: 60_000 } });
  sim.failNext(5, 503);
  const pending = [...Array.from({ length: 10 }, () => tokens.getToken()), ...Array.from({ length: 10 }, () => api.get('/api/2/users'))].map(observe);
  await sleep(100);
  expect(sim.stats.tokenCalls).toBe(1); // now sleeping in the back-off
  await time.run(tokens.dispose());
  const results = await allSettle(pending);
  expect(results.every((r) => !r.ok && (r.error as TokenError).code === 'disposed')).toBe(true);
});

test('dispose during a 401 replay: the request settles with disposed, not a hang', async () => {
  const { sim, tokens, api } = await rig('crowdstrike', { apiLatencyMs: 100 });
  await time.run(tokens.getToken());
  const inFlight = observe(api.get('/devices/queries/devices/v1'));
  await sleep(20);
  sim.revokeAll(); // the request will be refused...
  sim.latencyMs = 400; // ...and the refresh for its replay is slow
  await sleep(150);
  expect(sim.stats.api401).toBe(1);
  await time.run(tokens.dispose());
  const [result] = await allSettle([inFlight]);
  expect(result!.ok).toBe(false);
  expect((result!.error as TokenError).code).toBe('disposed');
});

test('dispose while requests and refreshes race it from many sides: all settle, nothing unhandled', async () => {
  const { sim, tokens, api } = await rig('oauth2', { latencyMs: 20, apiLatencyMs: 20, tokenLifetimeSeconds: 1 });
  const pending: Promise<Outcome>[] = [];
  for (let i = 0; i < 30; i++) {
    pending.push(observe(api.get('/x')), observe(tokens.getToken()));
    if (i % 5 === 0) pending.push(observe(tokens.refresh()));
    if (i === 10) sim.revokeAll();
    if (i === 20) sim.failNext(3, 500);
    await sleep(5);
  }
  const disposing = tokens.dispose();
  pending.push(observe(tokens.getToken()));
  // Dispose retires the interceptors at once: a request for the API made now is refused with
  // disposed, not sent without a token.
  const late = await time.run(settle(api.get(`${sim.url}/late`)));
  await time.run(disposing);
  const results = await allSettle(pending);
  // Each failure is ours (disposed, aborted...) or a replay the API refused again: every live token
  // was revoked at once, so a request replayed with the then-current token met a 401 twice.
  const replayRefused = (error: unknown) =>
    (error as { config?: { tokenwardenReplayed?: boolean }; response?: { status?: number } }).config?.tokenwardenReplayed === true &&
    (error as { response?: { status?: number } }).response?.status === 401;
  expect(results.filter((result) => !result.ok && !replayRefused(result.error) && !(result.error instanceof TokenError))).toEqual([]);
  expect((late as { error: TokenError }).error).toBeInstanceOf(TokenError);
  expect((late as { error: TokenError }).error.code).toBe('disposed');
  expect(sim.stats.missingTokenSends).toBe(0);
});
