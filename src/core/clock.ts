import type { Clock } from '../types';

/** Read at call time (not bound at import) so fake timers and test clocks take effect. */
export const systemClock: Required<Clock> = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
};

/** A moment on both clocks. */
export interface Instant {
  readonly wall: number;
  readonly mono: number;
}

export function instant(clock: Required<Clock>): Instant {
  return { wall: clock.now(), mono: clock.monotonic() };
}

/**
 * A point in time that has passed when either clock says so: the wall clock catches sleep and
 * frozen containers (monotonic time stops there), the monotonic clock catches wall-clock jumps.
 */
export class Deadline {
  readonly wall: number;
  readonly mono: number;

  constructor(at: Instant, inMs: number) {
    this.wall = at.wall + inMs;
    this.mono = at.mono + inMs;
  }

  /** Ms left, by the more pessimistic clock. */
  remaining(now: Instant): number {
    return Math.min(this.wall - now.wall, this.mono - now.mono);
  }
}

/** setTimeout caps at 2^31-1 ms (24.8 days) and fires at once beyond it. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function clampDelay(ms: number): number {
  if (!(ms > 0)) return 0;
  return Math.min(ms, MAX_TIMER_MS);
}

/** An unref'd timer: it never keeps the process alive on its own. */
export function unrefTimer(fn: () => void, ms: number): NodeJS.Timeout {
  const timer = setTimeout(fn, clampDelay(ms));
  timer.unref?.();
  return timer;
}

/** An unref'd interval. */
export function unrefInterval(fn: () => void, ms: number): NodeJS.Timeout {
  const timer = setInterval(fn, clampDelay(ms));
  timer.unref?.();
  return timer;
}

/** Resolve after `ms` on an unref'd timer. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => void unrefTimer(resolve, ms));
}

/** Wait `ms` on an unref'd timer; rejects with the signal's reason when it aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  if (!(ms > 0)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = unrefTimer(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * An abort signal that follows `sources` (aborting with the first one's reason) and, given
 * `timeoutMs`, aborts by itself with `onTimeout()` when that runs out. `clear()` detaches it.
 */
export function linkedAbort(sources: readonly AbortSignal[], timeoutMs?: number, onTimeout?: () => unknown): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const listeners = sources.map((source) => {
    const listener = () => controller.abort(source.reason);
    if (source.aborted) listener();
    else source.addEventListener('abort', listener, { once: true });
    return () => source.removeEventListener('abort', listener);
  });
  const timer = timeoutMs === undefined ? undefined : unrefTimer(() => controller.abort(onTimeout?.()), timeoutMs);
  return {
    signal: controller.signal,
    clear() {
      if (timer !== undefined) clearTimeout(timer);
      for (const remove of listeners) remove();
    },
  };
}

/** `promise`, or the signal's reason as soon as it aborts (for work that may ignore the signal). */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(noop);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The one timer that starts the next refresh (the token's life says why it is armed). */
export class RefreshTimer {
  readonly #fire: () => void;
  readonly #clock: { now(): number };
  #timer: NodeJS.Timeout | undefined;
  /** When it fires (on `now`'s clock), while armed. */
  dueAt: number | undefined;

  constructor(fire: () => void, clock: { now(): number } = Date) {
    this.#fire = fire;
    this.#clock = clock;
  }

  arm(delayMs: number): void {
    this.cancel();
    this.dueAt = this.#clock.now() + delayMs;
    // Longer than a timer can wait (a token that lives for months): wait in steps.
    const step = clampDelay(delayMs);
    this.#timer = unrefTimer(() => {
      if (delayMs > step) return this.arm(delayMs - step);
      this.#timer = undefined;
      this.dueAt = undefined;
      this.#fire();
    }, step);
  }

  cancel(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.dueAt = undefined;
  }
}

/**
 * All timers are unref'd, so a caller awaiting a token during a retry back-off would let Node exit
 * mid-await. While anyone waits, one ref'd handle keeps the process up; the last waiter drops it.
 */
export class KeepAlive {
  #holders = 0;
  #handle: NodeJS.Timeout | undefined;

  /** Someone is waiting. */
  get holding(): boolean {
    return this.#holders > 0;
  }

  hold(): void {
    if (this.#holders++ === 0) this.#handle = setInterval(noop, MAX_TIMER_MS);
  }

  release(): void {
    if (--this.#holders === 0 && this.#handle !== undefined) {
      clearInterval(this.#handle);
      this.#handle = undefined;
    }
  }
}

export function noop(): void {}

/** An epoch-ms moment as ISO text, or the number when no Date can hold it. */
export function isoTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}
