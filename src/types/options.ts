// The manager's options, events and call options.
import type { AxiosInstance } from 'axios';
import type { TokenBudget } from '../core/budget';
import type { TokenError } from '../errors';
import type { TokenProvider } from './provider';
import type { TokenStore } from './store';
import type { AccessToken, Clock, RefreshReason } from './token';

/** Retry policy for the token endpoint (passed to p-retry). */
export interface RetryOptions {
  /** Retries after the first attempt. Default 4. */
  retries?: number;
  /** Exponential factor. Default 2. */
  factor?: number;
  /** First back-off delay in ms. Default 500. */
  minTimeout?: number;
  /** Longest back-off delay in ms. Default 10 000. */
  maxTimeout?: number;
  /** Multiply each delay by a random factor in [1, 2). Default true. */
  randomize?: boolean;
  /**
   * Called after each failed attempt, before the back-off. Not awaited: what it throws or returns
   * is ignored, so a callback that hangs cannot hold a refresh past its deadline.
   */
  onFailedAttempt?: (context: { error: TokenError; attemptNumber: number; retriesLeft: number }) => void | Promise<void>;
}

export interface TokenManagerOptions {
  provider: TokenProvider;
  /** Refresh this long before expiry. Default 5 minutes, never more than half a token's lifetime. */
  refreshWindowMs?: number;
  retry?: RetryOptions;
  /** Extra origins (e.g. `'https://api.example.com'`) whose requests may carry the bearer token. */
  allowedOrigins?: readonly string[];
  /**
   * Axios instance for token calls (e.g. with a proxy agent). Never attach the manager to it. Its
   * own timeout is not used: `attemptTimeoutMs` is.
   */
  http?: AxiosInstance;
  clock?: Clock;
  /** Where jitter comes from (back-off, a fleet's refresh spread): a number in [0, 1). Default `Math.random`; for tests. */
  random?: () => number;
  /** Where the current token lives. Default: a private in-memory store. */
  store?: TokenStore;
  /** Lifetime for a token response without `expires_in`. Default 10 minutes. */
  defaultLifetimeMs?: number;
  /**
   * The deadline of one token call, from sending the request to the last byte of the answer (a
   * body that trickles in counts). Retried like any network failure. Default 10 000.
   */
  attemptTimeoutMs?: number;
  /**
   * The bound on one refresh as a whole: waiting for another replica's token call, every attempt
   * and every pause between them. Callers waiting for it then reject with code `timeout`, and the
   * next caller starts a new one. Default 30 000.
   */
  refreshTimeoutMs?: number;
  /**
   * A token-endpoint budget shared with other managers (`tokenBudget({ perMinute, concurrency })`):
   * every token call and revoke waits for its turn. Default: none (only this manager's own pacing).
   */
  budget?: TokenBudget;
  /** The fetch `tokens.fetch` sends with (undici's, a proxy's, a test's). Default: the global `fetch`, looked up per request. */
  fetch?: FetchLike;
  /**
   * OpenTelemetry metrics and a span per token call, through `@opentelemetry/api` (install it):
   * `true` for the app's global providers, or providers of your own. Default: off.
   */
  telemetry?: boolean | TelemetryOptions;
}

/** Where telemetry goes (each defaults to the global one of `@opentelemetry/api`). Typed loosely, so that this package's types need no OpenTelemetry. */
export interface TelemetryOptions {
  /** An OpenTelemetry `MeterProvider` (an SDK's, or `metrics.getMeterProvider()`). */
  meterProvider?: { getMeter(name: string, version?: string): unknown };
  /** An OpenTelemetry `TracerProvider`. */
  tracerProvider?: { getTracer(name: string, version?: string): unknown };
}

/** A WHATWG `fetch`: Node's global one, undici's, or `tokens.fetch` itself. */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface TokenManagerEvents {
  refresh: (token: AccessToken, reason: RefreshReason) => void;
  error: (error: TokenError) => void;
  revoke: (token: AccessToken) => void;
  dispose: () => void;
}

export interface GetTokenOptions {
  /** Aborts this caller's wait only; a refresh shared with other callers goes on. */
  signal?: AbortSignal;
}

export interface DisposeOptions {
  /**
   * Revoke the current token. Default true, except with a shared store (Redis): other replicas
   * are still using the token, so revoke it only when asked.
   */
  revoke?: boolean;
}
