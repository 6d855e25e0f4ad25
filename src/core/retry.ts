// The retry policy: its options, and p-retry driving the attempts of one refresh.
import pRetry from 'p-retry';
import { ConfigError, TokenError, asTokenError } from '../errors';
import { checkOptions } from '../utils/options-check';
import type { RetryOptions } from '../types';

export interface RetryPolicy {
  readonly retries: number;
  readonly factor: number;
  readonly minTimeout: number;
  readonly maxTimeout: number;
  readonly randomize: boolean;
  readonly onFailedAttempt?: RetryOptions['onFailedAttempt'];
}

/** The default `retry` options. */
export const DEFAULT_RETRY: Readonly<Required<Omit<RetryOptions, 'onFailedAttempt'>>> = {
  retries: 4,
  factor: 2,
  minTimeout: 500,
  maxTimeout: 10_000,
  randomize: true,
};

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
export function withRetry<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  policy: RetryPolicy,
  signal: AbortSignal,
  willRetry: (attemptNumber: number) => void,
): Promise<T> {
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
      if (onFailedAttempt)
        void Promise.resolve()
          .then(() => onFailedAttempt({ error: asTokenError(error), attemptNumber, retriesLeft }))
          .catch(() => undefined);
    },
  });
}
