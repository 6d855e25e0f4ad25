// Simulated time over real sockets, as the chaos harness does: @sinonjs/fake-timers replaces the
// clocks and timers the library (and the in-process servers) use, while loopback I/O runs on real
// turns of the event loop between ticks.
import * as FakeTimers from '@sinonjs/fake-timers';

export type FakeClock = ReturnType<typeof FakeTimers.install>;

const realSetTimeout = setTimeout;
const realTurn = () => new Promise<void>((resolve) => realSetTimeout(resolve, 1));

export interface FakeTime {
  readonly clock: FakeClock;
  /** Simulated ms since install. */
  elapsed(): number;
  /** Let `ms` of simulated time pass in steps, with real I/O in between. */
  advance(ms: number, stepMs?: number): Promise<void>;
  /** Advance until `promise` settles (at most `limitMs`), then its value or its error. */
  run<T>(promise: Promise<T>, limitMs?: number, stepMs?: number): Promise<T>;
  /** Let real I/O run with the clock standing still, until `done()` (or a few hundred turns). */
  settle(done: () => boolean): Promise<void>;
  /** Advance until `done()` (checked after every step) or `limitMs` have passed; the simulated ms it took. */
  until(done: () => boolean, limitMs: number, stepMs?: number): Promise<number>;
  uninstall(): void;
}

/**
 * Install simulated time for one test file: `beforeEach` installs, `afterEach` runs `teardown`
 * (the rig's cleanup, say) with the clock moving, then uninstalls. The current FakeTime is `now()`.
 */
export function useFakeTime(teardown: () => Promise<void>): { readonly now: () => FakeTime } {
  let current: FakeTime | undefined;
  beforeEach(() => {
    current = installFakeTime();
  });
  afterEach(async () => {
    try {
      await current!.run(teardown(), 30_000);
    } finally {
      current!.uninstall();
      current = undefined;
    }
  });
  return { now: () => current! };
}

export function installFakeTime(start = Date.parse('2026-01-05T00:00:00Z')): FakeTime {
  const clock = FakeTimers.install({ now: start, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
  const origin = clock.now;
  const step = async (ms: number) => {
    clock.tick(ms);
    // A few real turns: a request, its server's answer and the client's handling of it.
    for (let i = 0; i < 3; i++) await realTurn();
  };
  return {
    clock,
    elapsed: () => clock.now - origin,
    async advance(ms, stepMs = 50) {
      for (let left = ms; left > 0; left -= stepMs) await step(Math.min(stepMs, left));
    },
    async run(promise, limitMs = 120_000, stepMs = 50) {
      const outcome = watch(promise);
      const from = clock.now;
      while (!outcome.done && clock.now - from < limitMs) await step(stepMs);
      if (!outcome.done) throw new Error(`still pending after ${limitMs} simulated ms`);
      if ('error' in outcome && outcome.error !== undefined) throw outcome.error;
      return outcome.value as never;
    },
    async settle(done) {
      for (let turn = 0; turn < 500 && !done(); turn++) await realTurn();
    },
    async until(done, limitMs, stepMs = 50) {
      const from = clock.now;
      while (!done() && clock.now - from < limitMs) await step(stepMs);
      return clock.now - from;
    },
    uninstall: () => clock.uninstall(),
  };
}

/** Follow a promise's outcome without awaiting it (the clock must be advanced meanwhile). */
export function watch<T>(promise: Promise<T>): { readonly done: boolean; readonly value?: T; readonly error?: unknown; readonly at?: number } {
  const state: { done: boolean; value?: T; error?: unknown; at?: number } = { done: false };
  promise.then(
    (value) => Object.assign(state, { done: true, value, at: Date.now() }),
    (error: unknown) => Object.assign(state, { done: true, error, at: Date.now() }),
  );
  return state;
}
