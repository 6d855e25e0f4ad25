// One token-endpoint budget that any number of managers share (a pool's children, or lone managers
// with the same credential): at most `perMinute` token calls and revokes in any 60 s (a sliding
// window), at most `concurrency` at once. Three rules decide who goes next:
//   1. a call someone waits for (no usable token) goes before any background refresh;
//   2. within a priority, first come, first served;
//   3. a 429 pauses everyone until the server's hint: one wait shared by all, not one per manager.
// The server's X-Ratelimit-Limit / X-Ratelimit-Remaining tighten the window; they never widen it.
import { ConfigError, disposedError } from '../errors';
import type { Clock } from '../types';
import { systemClock, unrefTimer } from './clock';

export interface TokenBudgetOptions {
  /** Token calls and revokes in any 60 s, for every manager that shares the budget. CrowdStrike allows 300 per source IP. */
  perMinute: number;
  /** Token calls and revokes in flight at once. Default 8. */
  concurrency?: number;
  /** Where time comes from (tests). Default the system clocks. */
  clock?: Clock;
}

/** What the budget lets through: call it when the call is over, whatever its outcome. */
type Release = () => void;

interface Ticket {
  /** Asked when a turn is free: a refresh becomes urgent when a caller starts waiting for it. */
  readonly urgent: () => boolean;
  readonly grant: (release: Release) => void;
}

const WINDOW_MS = 60_000;
const OPTIONS = ['perMinute', 'concurrency', 'clock'];

export class TokenBudget {
  readonly perMinute: number;
  readonly concurrency: number;
  readonly #clock: Required<Clock>;
  /** When (monotonic) each call of the last 60 s started: oldest first. */
  readonly #starts: number[] = [];
  readonly #queue: Ticket[] = [];
  #active = 0;
  #pausedUntil = -Infinity;
  /** What the server says the window holds (it may count callers we cannot see). */
  #serverLimit = Infinity;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;

  constructor(options: TokenBudgetOptions) {
    const who = 'tokenBudget()';
    if (options === null || typeof options !== 'object') throw new ConfigError('perMinute', `${who}: give { perMinute, concurrency? }`);
    for (const key of Object.keys(options))
      if (!OPTIONS.includes(key)) throw new ConfigError(key, `${who}: unknown option "${key.slice(0, 40)}" (valid options are ${OPTIONS.join(', ')})`);
    this.perMinute = positiveInteger(options.perMinute, 'perMinute', who);
    this.concurrency = options.concurrency === undefined ? 8 : positiveInteger(options.concurrency, 'concurrency', who);
    this.#clock = { ...systemClock, ...options.clock };
  }

  /**
   * Wait for a turn; the promise gives the function that ends it (call it when the call is over,
   * whatever its outcome). `urgent()`: someone has no token and waits for this call. Rejects when
   * `signal` aborts.
   */
  acquire(urgent: () => boolean, signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason ?? disposedError());
    return new Promise<Release>((resolve, reject) => {
      const onAbort = () => {
        const at = this.#queue.indexOf(ticket);
        if (at >= 0) this.#queue.splice(at, 1);
        reject(signal?.reason ?? disposedError());
      };
      const ticket: Ticket = {
        urgent,
        grant: (release) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(ticket);
      this.#drain();
    });
  }

  /** The server asked everyone to wait `ms` (a 429's hint). */
  pause(ms: number): void {
    if (!(ms > 0)) return;
    this.#pausedUntil = Math.max(this.#pausedUntil, this.#clock.monotonic() + ms);
    this.#drain();
  }

  /**
   * Rate-limit headers from a token endpoint's success: the window holds at most `limit` (the
   * latest figure: a limit the server raises again is followed), and `remaining` calls are left.
   */
  observe(limit: number | undefined, remaining: number | undefined): void {
    if (limit !== undefined && limit > 0) this.#serverLimit = limit;
    // Nothing left by the server's count: wait for our oldest call to leave the window.
    if (remaining === 0) this.pause(Math.max(1_000, (this.#starts[0] ?? this.#clock.monotonic()) + WINDOW_MS - this.#clock.monotonic()));
  }

  /** Calls in the window now, and in flight (for status and tests). */
  get usage(): { inWindow: number; active: number; queued: number } {
    this.#forget(this.#clock.monotonic());
    return { inWindow: this.#starts.length, active: this.#active, queued: this.#queue.length };
  }

  #limit(): number {
    return Math.min(this.perMinute, this.#serverLimit);
  }

  #forget(now: number): void {
    while (this.#starts.length > 0 && this.#starts[0]! <= now - WINDOW_MS) this.#starts.shift();
  }

  #drain(): void {
    const now = this.#clock.monotonic();
    this.#forget(now);
    while (this.#active < this.concurrency && this.#starts.length < this.#limit() && now >= this.#pausedUntil) {
      const first = this.#queue.findIndex((ticket) => ticket.urgent());
      const [ticket] = this.#queue.splice(first >= 0 ? first : 0, 1);
      if (ticket === undefined) return;
      this.#active++;
      this.#starts.push(now);
      let released = false;
      ticket.grant(() => {
        if (released) return;
        released = true;
        this.#active--;
        this.#drain();
      });
    }
    if (this.#queue.length === 0 || this.#active >= this.concurrency) return;
    // Blocked by time (the window or a pause): wake when the first of them is over.
    const windowFrees = this.#starts.length >= this.#limit() ? this.#starts[0]! + WINDOW_MS : -Infinity;
    this.#wakeAt(Math.max(windowFrees, this.#pausedUntil));
  }

  #wakeAt(at: number): void {
    if (this.#timer !== undefined && this.#timerAt <= at) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = unrefTimer(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.#drain();
    }, at - this.#clock.monotonic());
  }
}

/**
 * The turns of one attempt (or one revoke): every HTTP call takes one (`next()`), since a provider
 * may make several (CrowdStrike's cloud discovery, OneLogin's revoke before a new token, a DPoP
 * nonce retry). The first is taken before the attempt's own deadline starts, so a full budget
 * delays an attempt instead of failing it; all are given back when it is over.
 */
export class Turns {
  readonly #budget: TokenBudget;
  readonly #urgent: () => boolean;
  readonly #releases: (() => void)[] = [];
  #prepaid = false;

  constructor(budget: TokenBudget, urgent: () => boolean) {
    this.#budget = budget;
    this.#urgent = urgent;
  }

  async first(signal: AbortSignal): Promise<void> {
    this.#releases.push(await this.#budget.acquire(this.#urgent, signal));
    this.#prepaid = true;
  }

  async next(signal: AbortSignal | undefined): Promise<void> {
    if (this.#prepaid) {
      this.#prepaid = false;
      return;
    }
    this.#releases.push(await this.#budget.acquire(this.#urgent, signal));
  }

  release(): void {
    for (const release of this.#releases.splice(0)) release();
  }
}

/** A budget that managers (and pools) share: `new TokenManager({ provider, budget })`. */
export function tokenBudget(options: TokenBudgetOptions): TokenBudget {
  return new TokenBudget(options);
}

function positiveInteger(value: unknown, option: string, who: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0)
    throw new ConfigError(option, `${who}: ${option} must be a positive whole number (got ${typeof value === 'number' ? value : typeof value})`);
  return value;
}
