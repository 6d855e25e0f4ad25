// TokenManager options, checked once: every bad value is a ConfigError naming the option.
import { randomBytes } from 'node:crypto';
import { TokenBudget } from './core/budget';
import { originOf } from './utils/origin';
import { systemClock } from './core/clock';
import { ConfigError } from './errors';
import { DEFAULT_ATTEMPT_TIMEOUT_MS, createTokenHttp } from './transport/http';
import { checkOptions } from './utils/options-check';
import { DEFAULT_REFRESH_WINDOW_MS, type RefreshPolicy } from './core/policy';
import { resolveRetry, type RetryPolicy } from './core/retry';
import { keyring, type Keyring } from './core/seal';
import { memoryStore } from './core/store';
import { DEFAULT_LIFETIME_MS } from './transport/token-response';
import type { Clock, FetchLike, ProviderContext, TokenManagerOptions, TokenProvider, TokenStore } from './types';

/** The default bound on a whole refresh: waiting for a fleet's lock holder, every attempt and pause. */
export const DEFAULT_REFRESH_TIMEOUT_MS = 30_000;

export const OPTIONS = [
  'provider',
  'refreshWindowMs',
  'retry',
  'allowedOrigins',
  'http',
  'clock',
  'random',
  'store',
  'defaultLifetimeMs',
  'attemptTimeoutMs',
  'refreshTimeoutMs',
  'budget',
  'fetch',
  'telemetry',
] as const;

export interface ResolvedOptions {
  readonly provider: TokenProvider;
  readonly clock: Required<Clock>;
  readonly policy: RefreshPolicy;
  readonly retry: RetryPolicy;
  readonly store: TokenStore;
  /** The store key and the seal of its entries, derived from the provider's credential. */
  readonly keys: Keyring;
  /** Deadlines: one token call (headers and body), and one refresh as a whole. */
  readonly attemptTimeoutMs: number;
  readonly refreshTimeoutMs: number;
  /** Jitter: back-off and a fleet's refresh spread. */
  readonly random: () => number;
  /** `allowedOrigins` as `new URL().origin` writes them. */
  readonly extraOrigins: readonly string[];
  readonly context: ProviderContext;
  readonly budget: TokenBudget | undefined;
  /** The fetch `tokens.fetch` sends with. */
  readonly fetch: () => FetchLike;
  readonly telemetry: TokenManagerOptions['telemetry'];
}

export function resolveOptions(options: TokenManagerOptions): ResolvedOptions {
  checkOptions(options, OPTIONS, 'TokenManager');
  const provider = options?.provider;
  if (!provider || typeof provider.fetchToken !== 'function' || typeof provider.identity !== 'string') {
    throw new ConfigError('provider', 'TokenManager: provider is required (crowdstrike(), onelogin(), clientCredentials() or your own TokenProvider)');
  }
  const source = options.clock ?? systemClock;
  if (typeof source.now !== 'function') throw new ConfigError('clock', 'TokenManager: clock must have a now() method');
  // Without a monotonic clock (a test clock), the wall clock stands in for it.
  const clock =
    source === systemClock ? systemClock : { now: () => source.now(), monotonic: source.monotonic ? () => source.monotonic!() : () => source.now() };
  const extraOrigins = (options.allowedOrigins ?? []).map((url) => {
    const origin = typeof url === 'string' ? originOf(url) : undefined;
    if (origin === undefined) {
      const got = typeof url === 'string' ? `a ${url.length}-character string that is not one` : typeof url;
      throw new ConfigError('allowedOrigins', `TokenManager: allowedOrigins must be http(s) URLs, got ${got}`);
    }
    return origin;
  });
  const defaultLifetimeMs = nonNegative(options.defaultLifetimeMs, DEFAULT_LIFETIME_MS, 'defaultLifetimeMs');
  const attemptTimeoutMs = positive(options.attemptTimeoutMs, DEFAULT_ATTEMPT_TIMEOUT_MS, 'attemptTimeoutMs');
  const refreshTimeoutMs = positive(options.refreshTimeoutMs, DEFAULT_REFRESH_TIMEOUT_MS, 'refreshTimeoutMs');
  const budget = options.budget;
  if (budget !== undefined && !(budget instanceof TokenBudget))
    throw new ConfigError('budget', 'TokenManager: budget must come from tokenBudget({ perMinute, concurrency })');
  const fetch = options.fetch;
  if (fetch !== undefined && typeof fetch !== 'function') throw new ConfigError('fetch', "TokenManager: fetch must be a fetch function (undici's, say)");
  return {
    provider,
    clock,
    policy: { refreshWindowMs: nonNegative(options.refreshWindowMs, DEFAULT_REFRESH_WINDOW_MS, 'refreshWindowMs') },
    retry: resolveRetry(options.retry),
    store: options.store ?? memoryStore(),
    keys: keysFor(provider, options.store),
    attemptTimeoutMs,
    refreshTimeoutMs,
    random: randomSource(options.random),
    extraOrigins,
    context: {
      http: options.http ?? createTokenHttp(),
      clock,
      defaultLifetimeMs,
      timeoutMs: attemptTimeoutMs,
      ...(budget && { rateLimit: (limit: number | undefined, remaining: number | undefined) => budget.observe(limit, remaining) }),
    },
    budget,
    // Looked up per request, so a fetch installed after the manager was made (a test's, a polyfill) is the one used.
    fetch: fetch === undefined ? () => globalThis.fetch : () => fetch,
    telemetry: options.telemetry,
  };
}

/**
 * Store names and seals come from the credential, for a store of the user's (one others may read).
 * The default store is this manager's alone: a random key will do, and costs no key stretching.
 * A provider that cannot give a secret must not share a store where others could read.
 */
function keysFor(provider: TokenProvider, store: TokenStore | undefined): Keyring {
  if (store === undefined) return keyring(provider.identity, randomBytes(32), { random: true });
  const secret = typeof provider.storeSecret === 'function' ? provider.storeSecret() : undefined;
  if (secret === undefined) {
    throw new ConfigError(
      'store',
      `TokenManager: provider ${JSON.stringify(provider.name)} has no storeSecret(), so its tokens cannot go into a store: give the provider a storeSecret() returning its client secret (or key), or leave out the store`,
    );
  }
  if ((typeof secret !== 'string' && !(secret instanceof Uint8Array)) || secret.length === 0) {
    throw new ConfigError('provider', 'TokenManager: provider.storeSecret() must return a non-empty string or Uint8Array');
  }
  return keyring(provider.identity, secret);
}

function randomSource(random: unknown): () => number {
  if (random === undefined) return () => Math.random();
  if (typeof random !== 'function')
    throw new ConfigError('random', `TokenManager: random must be a function returning a number in [0, 1), got ${typeof random}`);
  return () => {
    const value = Number((random as () => unknown)());
    return value >= 0 && value < 1 ? value : 0;
  };
}

function positive(value: unknown, fallback: number, option: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new ConfigError(option, `TokenManager: ${option} must be a positive number of ms, got ${typeof value === 'number' ? value : typeof value}`);
  }
  return value;
}

function nonNegative(value: unknown, fallback: number, option: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) {
    throw new ConfigError(option, `TokenManager: ${option} must be a non-negative number of ms, got ${typeof value === 'number' ? value : typeof value}`);
  }
  return value;
}
