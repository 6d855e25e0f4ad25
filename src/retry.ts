// The retry policy: its options, p-retry driving the attempts of one refresh, and the server's
// retry hints read from a response's headers.
import pRetry from 'p-retry';
import { ConfigError, TokenError, asTokenError } from './errors';
import { checkOptions } from './options-check';
import type { RetryOptions } from './types';

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

const RETRY_OPTIONS = ['retries', 'factor', 'minTimeout', 'maxTimeout', 'randomize', 'onFailedAttempt'] as const;

export function resolveRetry(options: RetryOptions | undefined): RetryPolicy {
  checkOptions(options, RETRY_OPTIONS, 'TokenManager', 'retry.');
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

/**
 * Run `attempt` until it succeeds, a non-retryable TokenError is thrown, or retries run out.
 * p-retry drives the attempts; the pauses between them are the pacer's (`willRetry` is told of
 * each attempt that is to be tried again, and the next attempt waits on the pacer itself).
 */
export function withRetry<T>(attempt: (attemptNumber: number) => Promise<T>, policy: RetryPolicy, signal: AbortSignal, willRetry: (attemptNumber: number) => void): Promise<T> {
  const { onFailedAttempt } = policy;
  const retryable = (error: unknown) => error instanceof TokenError && error.retryable;
  return pRetry(attempt, {
    retries: policy.retries,
    minTimeout: 0,
    maxTimeout: 0,
    signal,
    shouldRetry: ({ error }) => retryable(error),
    onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
      if (retriesLeft > 0 && retryable(error) && !signal.aborted) willRetry(attemptNumber);
      // A notification, not awaited: what it throws is ignored, and one that never settles must
      // not hold the refresh past its deadline (p-retry would wait for it without looking at the signal).
      if (onFailedAttempt) void Promise.resolve().then(() => onFailedAttempt({ error: asTokenError(error), attemptNumber, retriesLeft })).catch(() => undefined);
    },
  });
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
