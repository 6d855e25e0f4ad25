// When the token endpoint may be called next. Every pause lives here: the server's retry hints
// (never shortened), the back-off after a failed attempt or refresh (growing, jittered), and the
// back-off after new tokens keep being refused. A rule of thumb for both sides of an outage: a
// caller who has no token waits for the next attempt for at most WAITING_MAX_PAUSE_MS, while
// a background refresh (the old token still good) backs off all the way to `maxTimeout`.
import { sleep } from './clock';
import type { RetryPolicy } from './retry';
import type { Clock } from '../types';

/**
 * While callers wait for a token, our own pause between token calls is at most this: when the
 * endpoint comes back they get a token within about this long, and a failing endpoint sees one
 * call per this much per manager, not a stampede.
 */
export const WAITING_MAX_PAUSE_MS = 2_000;

/** The pause before the `step`-th try in a row (1, 2, ...): minTimeout, growing by factor, at most maxTimeout. */
export function backoffMs(step: number, policy: RetryPolicy, jitter = 0): number {
  const grown = policy.minTimeout * policy.factor ** Math.max(0, step - 1);
  return Math.min(policy.maxTimeout, Math.round(grown * (1 + jitter)));
}

export class Pacer {
  readonly #clock: Required<Clock>;
  readonly #policy: RetryPolicy;
  readonly #random: () => number;
  /** Until when (monotonic) the server asked for quiet. */
  #hintUntil = -Infinity;
  /** Our own pause: until `#pauseUntil`, and for waiters until shortly after the last failure (`#pausedAt`). */
  #pausedAt = -Infinity;
  #pauseUntil = -Infinity;
  /** Refreshes that failed in a row, and new tokens the API refused in a row. */
  #failedRefreshes = 0;
  #refusedTokens = 0;
  readonly #sleepers = new Set<() => void>();

  constructor(clock: Required<Clock>, policy: RetryPolicy, random: () => number) {
    this.#clock = clock;
    this.#policy = policy;
    this.#random = random;
  }

  /** Ms until the next token call may go out; `waiting`: a caller has no token and waits for it. */
  waitMs(waiting: boolean): number {
    const now = this.#clock.monotonic();
    const pauseUntil = waiting ? Math.min(this.#pauseUntil, this.#pausedAt + WAITING_MAX_PAUSE_MS) : this.#pauseUntil;
    return Math.max(0, this.#hintUntil - now, pauseUntil - now);
  }

  /** Sleep until a token call may go out, looking again whenever a caller starts waiting. */
  async wait(signal: AbortSignal, waiting: () => boolean): Promise<void> {
    for (let ms = this.waitMs(waiting()); ms > 0; ms = this.waitMs(waiting())) {
      let wake!: () => void;
      const woken = new Promise<void>((resolve) => (wake = resolve));
      this.#sleepers.add(wake);
      try {
        await Promise.race([sleep(ms, signal), woken]);
      } finally {
        this.#sleepers.delete(wake);
      }
    }
  }

  /** A caller started waiting for a token: pauses capped for waiters may be over already. */
  nudge(): void {
    for (const wake of [...this.#sleepers]) wake();
  }

  /** The server asked for `ms` of quiet. */
  hint(ms: number): void {
    this.#hintUntil = Math.max(this.#hintUntil, this.#clock.monotonic() + ms);
  }

  /** Attempt `attempt` (1, 2, ...) of a refresh failed: the next waits p-retry's jittered back-off. */
  attemptFailed(attempt: number): void {
    const jitter = this.#policy.randomize ? this.#random() : 0;
    this.#pause(backoffMs(attempt, this.#policy, jitter));
  }

  /** A whole refresh failed: the next one waits longer the more have failed in a row. */
  refreshFailed(): void {
    this.#pause(backoffMs(++this.#failedRefreshes, this.#policy));
  }

  refreshSucceeded(): void {
    this.#failedRefreshes = 0;
    this.#pauseUntil = -Infinity;
  }

  /** The API refused a new token: one refusal is a revocation, more in a row wait longer and longer. */
  tokenRefused(): void {
    if (++this.#refusedTokens > 1) this.#pause(backoffMs(this.#refusedTokens - 1, this.#policy));
  }

  tokenAccepted(): void {
    this.#refusedTokens = 0;
  }

  #pause(ms: number): void {
    this.#pausedAt = this.#clock.monotonic();
    this.#pauseUntil = Math.max(this.#pauseUntil, this.#pausedAt + ms);
  }
}
