// One token-endpoint budget shared by many managers: the sliding window, the concurrency cap, who
// goes first, one pause for all after a 429, the server's headers. Simulated time: time is the subject.
import { ConfigError, TokenManager, crowdstrike, tokenBudget, type TokenBudget } from '../src';
import { startSimulator } from '../src/testing';
import { useFakeTime } from './helpers/fake-time';
import { cleanup, providerFor, track, thrownBy } from './helpers/setup';

const fake = useFakeTime(cleanup);

/** Ask for `n` turns; what was granted so far, in order, by label. */
function asker(budget: TokenBudget) {
  const granted: string[] = [];
  const releases = new Map<string, () => void>();
  const ask = (label: string, urgent = false, signal?: AbortSignal) =>
    budget
      .acquire(() => urgent, signal)
      .then((release) => {
        granted.push(label);
        releases.set(label, release);
      });
  return { granted, ask, release: (label: string) => releases.get(label)!() };
}

describe('tokenBudget', () => {
  test('perMinute is a sliding window: the 4th and 5th calls wait until the 1st and 2nd are 60 s old', async () => {
    const budget = tokenBudget({ perMinute: 3, concurrency: 10 });
    const { granted, ask, release } = asker(budget);
    void ask('a');
    await fake.now().advance(10_000, 1_000);
    void ask('b');
    void ask('c');
    void ask('d');
    void ask('e');
    await fake.now().advance(100);
    expect(granted).toEqual(['a', 'b', 'c']);
    ['a', 'b', 'c'].forEach(release);
    await fake.now().advance(49_800, 1_000); // 59.9 s after a
    expect(granted).toEqual(['a', 'b', 'c']);
    await fake.now().advance(200); // a is out of the window
    expect(granted).toEqual(['a', 'b', 'c', 'd']);
    await fake.now().advance(10_000, 1_000); // b too
    expect(granted).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  test('concurrency: a call waits for one in flight to end', async () => {
    const budget = tokenBudget({ perMinute: 100, concurrency: 2 });
    const { granted, ask, release } = asker(budget);
    ['a', 'b', 'c'].forEach((label) => void ask(label));
    await fake.now().settle(() => granted.length === 2);
    expect(granted).toEqual(['a', 'b']);
    release('b');
    release('b'); // twice is once
    await fake.now().settle(() => granted.length === 3);
    expect(granted).toEqual(['a', 'b', 'c']);
    expect(budget.usage).toEqual({ inWindow: 3, active: 2, queued: 0 });
  });

  test('a call someone waits for goes before background refreshes that queued earlier', async () => {
    const budget = tokenBudget({ perMinute: 1 });
    const { granted, ask } = asker(budget);
    void ask('first');
    void ask('background-1');
    void ask('background-2');
    void ask('waited-for', true);
    await fake.now().advance(60_100, 1_000);
    expect(granted).toEqual(['first', 'waited-for']);
    await fake.now().advance(60_000, 1_000);
    expect(granted).toEqual(['first', 'waited-for', 'background-1']);
  });

  test('a pause (a 429) holds everyone until it ends, and the server can tighten the window, never past perMinute', async () => {
    const budget = tokenBudget({ perMinute: 10, concurrency: 20 });
    const { granted, ask } = asker(budget);
    budget.pause(5_000);
    void ask('a');
    void ask('b', true);
    await fake.now().advance(4_900);
    expect(granted).toEqual([]);
    await fake.now().advance(200);
    expect(granted).toEqual(['b', 'a']);
    budget.observe(3, undefined);
    ['c', 'd', 'e'].forEach((label) => void ask(label));
    await fake.now().advance(100);
    expect(granted).toEqual(['b', 'a', 'c']);
    // The server's latest figure is followed (it may raise it again), never past perMinute.
    budget.observe(500, undefined);
    ['f', 'g', 'h', 'i', 'j', 'k', 'l', 'm'].forEach((label) => void ask(label));
    await fake.now().advance(100);
    expect(granted).toHaveLength(10);
  });

  test('remaining 0 from the server: nobody calls until our oldest call has left the window', async () => {
    const budget = tokenBudget({ perMinute: 10 });
    const { granted, ask } = asker(budget);
    void ask('a');
    await fake.now().advance(20_000, 1_000);
    budget.observe(undefined, 0);
    void ask('b');
    await fake.now().advance(39_900, 100);
    expect(granted).toEqual(['a']);
    await fake.now().advance(200);
    expect(granted).toEqual(['a', 'b']);
  });

  test('an aborted wait leaves the queue and rejects with its reason', async () => {
    const budget = tokenBudget({ perMinute: 1 });
    const { granted, ask } = asker(budget);
    void ask('a');
    const controller = new AbortController();
    const waiting = ask('b', false, controller.signal);
    void ask('c');
    controller.abort(new Error('gave up'));
    await expect(waiting).rejects.toThrow('gave up');
    await fake.now().advance(60_100, 1_000);
    expect(granted).toEqual(['a', 'c']);
  });

  test.each([
    [{ perMinute: 0 }, 'perMinute', /perMinute must be a positive whole number \(got 0\)/],
    [{ perMinute: 2.5 }, 'perMinute', /positive whole number/],
    [{ perMinute: '300' }, 'perMinute', /got string/],
    [{ perMinute: 300, concurrency: -1 }, 'concurrency', /concurrency must be a positive whole number/],
    [{ perMinute: 300, perminute: 1 }, 'perminute', /unknown option "perminute"/],
  ])('bad options %j are a ConfigError on %s', (options, option, says) => {
    const thrown = thrownBy(() => tokenBudget(options as never));
    expect(thrown).toBeInstanceOf(ConfigError);
    expect(thrown).toMatchObject({ option, message: expect.stringMatching(says) });
  });
});

describe('managers sharing a budget', () => {
  test('four managers, perMinute 2: two token calls in the first minute, the others wait, then get theirs', async () => {
    const sim = await startSimulator({ dialect: 'oauth2', tokenLifetimeSeconds: 3600 });
    track(() => sim.close());
    const budget = tokenBudget({ perMinute: 2 });
    const managers = Array.from({ length: 4 }, (_, i) => {
      const tokens = new TokenManager({ provider: { ...providerFor(sim), identity: `m${i}` }, budget, refreshTimeoutMs: 120_000 });
      track(() => tokens.dispose({ revoke: false }));
      return tokens;
    });
    const all = Promise.all(managers.map((tokens) => tokens.getToken()));
    await fake.now().advance(30_000, 500);
    expect(sim.stats.tokenCalls).toBe(2);
    await fake.now().run(all, 40_000, 500);
    expect(sim.stats.tokenCalls).toBe(4);
    expect(fake.now().elapsed()).toBeGreaterThanOrEqual(60_000);
  });

  test("one 429 pauses every manager on the budget for the server's hint, not just the one that got it", async () => {
    const sim = await startSimulator({ dialect: 'crowdstrike' });
    track(() => sim.close());
    const budget = tokenBudget({ perMinute: 100 });
    const make = (i: number) => {
      const tokens = new TokenManager({ provider: { ...providerFor(sim), identity: `c${i}` }, budget, retry: { retries: 3, minTimeout: 10, maxTimeout: 10 } });
      track(() => tokens.dispose({ revoke: false }));
      return tokens;
    };
    const first = make(1);
    sim.failNext(1, { rateLimitSeconds: 20 });
    const firstToken = first.getToken();
    await fake.now().advance(1_000);
    expect(sim.stats.tokenCalls).toBe(1);
    const second = make(2).getToken();
    await fake.now().advance(18_000);
    expect(sim.stats.tokenCalls).toBe(1); // the second manager waits out the same pause
    await fake.now().run(Promise.all([firstToken, second]), 5_000);
    expect(sim.stats.tokenCalls).toBe(3);
  });

  test('revokes on dispose take their turn too, and a full window gives up after refreshTimeoutMs, saying so', async () => {
    const sim = await startSimulator({ dialect: 'oauth2' });
    track(() => sim.close());
    const budget = tokenBudget({ perMinute: 1 });
    const tokens = new TokenManager({ provider: providerFor(sim), budget, refreshTimeoutMs: 20_000 });
    const errors: string[] = [];
    tokens.on('error', (error) => errors.push(error.message));
    await fake.now().run(tokens.getToken());
    const disposed = tokens.dispose({ revoke: true });
    await fake.now().advance(5_000, 500);
    expect(sim.stats.revokeCalls).toBe(0); // the window is full: the revoke waits...
    expect(budget.usage.queued).toBe(1);
    await fake.now().run(disposed, 20_000, 500);
    // ...until refreshTimeoutMs: dispose never hangs on a budget, and says why nothing was revoked.
    expect(fake.now().elapsed()).toBeLessThan(30_000);
    expect(budget.usage.queued).toBe(0);
    expect(errors).toEqual([expect.stringMatching(/revoke got no turn in the shared budget within 20000 ms: not revoked/)]);
  });

  test('every HTTP call takes a turn: CrowdStrike cloud discovery (token, revoke, token) is three', async () => {
    const sim = await startSimulator({ dialect: 'crowdstrike', regions: ['us-1', 'us-2'], homeRegion: 'us-2' });
    track(() => sim.close());
    const budget = tokenBudget({ perMinute: 100 });
    const tokens = new TokenManager({
      provider: crowdstrike({ clientId: sim.clientId, clientSecret: sim.clientSecret, cloudUrls: { 'us-1': sim.urlFor('us-1'), 'us-2': sim.urlFor('us-2') } }),
      budget,
    });
    track(() => tokens.dispose({ revoke: false }));
    await fake.now().run(tokens.getToken());
    expect(sim.stats.tokenCalls + sim.stats.revokeCalls).toBe(3);
    expect(budget.usage.inWindow).toBe(3);
  });
});
