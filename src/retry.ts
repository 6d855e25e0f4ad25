// How often the token endpoint may be called: p-retry's back-off within one refresh, a gate that
// holds every attempt (across refreshes) until the server's retry hint has passed.
import pRetry from 'p-retry';
import { sleep } from './clock';
import { ConfigError, TokenError, asTokenError } from './errors';
import type { Clock, RetryOptions } from './types';

export interface RetryPolicy {
  readonly retries: number;
  readonly factor: number;
  readonly minTimeout: number;
  readonly maxTimeout: number;
  readonly randomize: boolean;
  readonly onFailedAttempt?: RetryOptions['onFailedAttempt'];
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 4, factor: 2, minTimeout: 500, maxTimeout: 10_000, randomize: true };

/**
 * Longer hints are taken as nonsense and cut to this. An hour covers every real one (OneLogin's
 * X-RateLimit-Reset counts down an hourly window); a skewed server clock cannot inflate a hint,
 * since absolute times are read against the response's own Date header.
 */
export const MAX_RETRY_AFTER_MS = 60 * 60_000;

export function resolveRetry(options: RetryOptions | undefined): RetryPolicy {
  // `{ retries: undefined }` means the default, not no value.
  const given = Object.fromEntries(Object.entries(options ?? {}).filter(([, value]) => value !== undefined));
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...given };
  for (const name of ['retries', 'factor', 'minTimeout', 'maxTimeout'] as const) {
    const value = policy[name];
    if (typeof value !== 'number' || !(value >= 0) || (name !== 'retries' && !Number.isFinite(value))) {
      throw new ConfigError(`retry.${name}`, `retry.${name} must be a non-negative number, got ${String(value)}`);
    }
  }
  if (policy.maxTimeout < policy.minTimeout) {
    throw new ConfigError('retry.maxTimeout', 'retry.maxTimeout must not be smaller than retry.minTimeout');
  }
  return policy;
}

/** The pause before the `step`-th try in a row (1, 2, ...): minTimeout, doubling, at most maxTimeout. */
export function backoffMs(step: number, policy: RetryPolicy): number {
  return Math.min(policy.maxTimeout, policy.minTimeout * 2 ** Math.max(0, step - 1));
}

/** Run `attempt` until it succeeds, a non-retryable TokenError is thrown, or retries run out. */
export function withRetry<T>(attempt: () => Promise<T>, policy: RetryPolicy, signal: AbortSignal): Promise<T> {
  const { onFailedAttempt } = policy;
  return pRetry(attempt, {
    retries: policy.retries,
    factor: policy.factor,
    minTimeout: policy.minTimeout,
    maxTimeout: policy.maxTimeout,
    randomize: policy.randomize,
    unref: true,
    signal,
    shouldRetry: ({ error }) => error instanceof TokenError && error.retryable,
    ...(onFailedAttempt && {
      // A notification: what it throws is ignored, it must not turn into the refresh failing.
      onFailedAttempt: ({ error, attemptNumber, retriesLeft }) =>
        Promise.resolve()
          .then(() => onFailedAttempt({ error: asTokenError(error), attemptNumber, retriesLeft }))
          .catch(() => undefined),
    }),
  });
}

/**
 * The earliest moment the token endpoint may be called again, on the monotonic clock. A 429's
 * retry hint and a failed refresh close it for a while; a new refresh waits here instead of
 * calling at once, so a server that asked for quiet gets it even from the next caller.
 */
export class Gate {
  #openAt = -Infinity;
  readonly #clock: Required<Clock>;

  constructor(clock: Required<Clock>) {
    this.#clock = clock;
  }

  #mono(): number {
    return this.#clock.monotonic();
  }

  /** Keep the gate closed for at least `ms` from now. */
  closeFor(ms: number): void {
    this.#openAt = Math.max(this.#openAt, this.#mono() + ms);
  }

  /** Ms until the gate opens (0 when open). */
  waitMs(): number {
    return Math.max(0, this.#openAt - this.#mono());
  }

  wait(signal: AbortSignal): Promise<void> {
    return sleep(this.waitMs(), signal);
  }
}

/**
 * How long the server asked us to wait, in ms, or undefined. Reads CrowdStrike's
 * `X-Ratelimit-Retryafter` (Unix seconds), `Retry-After` (seconds or an HTTP date) and
 * `X-RateLimit-Reset` (seconds remaining; Unix seconds when it is that large). Absolute times are
 * measured against the response's own `Date` header when it has one, so a server whose clock
 * disagrees with ours still gets the pause it meant.
 */
export function retryAfterMs(headers: Readonly<Record<string, string | undefined>>, nowMs: number): number | undefined {
  const serverNow = parseHttpDate(headers['date']) ?? nowMs;
  const waits: number[] = [];
  const unixSeconds = parseNumber(headers['x-ratelimit-retryafter']);
  if (unixSeconds !== undefined) waits.push(unixSeconds * 1000 - serverNow);
  const retryAfter = headers['retry-after'];
  if (retryAfter !== undefined) {
    const seconds = parseNumber(retryAfter);
    const date = seconds === undefined ? parseHttpDate(retryAfter) : undefined;
    if (seconds !== undefined) waits.push(seconds * 1000);
    else if (date !== undefined) waits.push(date - serverNow);
  }
  const reset = parseNumber(headers['x-ratelimit-reset']);
  if (reset !== undefined) waits.push(reset > 1e9 ? reset * 1000 - serverNow : reset * 1000);
  if (waits.length === 0) return undefined;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ...waits));
}

function parseNumber(value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*\d+(\.\d+)?\s*$/.test(value)) return undefined;
  return Number(value);
}

function parseHttpDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}
