// TokenManager options, checked once: every bad value is a ConfigError naming the option.
import { originOf } from './axios';
import { systemClock } from './clock';
import { ConfigError } from './errors';
import { createTokenHttp } from './http';
import { DEFAULT_REFRESH_WINDOW_MS, type RefreshPolicy } from './policy';
import { resolveRetry, type RetryPolicy } from './retry';
import { memoryStore, storeKey } from './store';
import { DEFAULT_LIFETIME_MS } from './token-response';
import type { Clock, ProviderContext, TokenManagerOptions, TokenProvider, TokenStore } from './types';

export interface ResolvedOptions {
  readonly provider: TokenProvider;
  readonly clock: Required<Clock>;
  readonly policy: RefreshPolicy;
  readonly retry: RetryPolicy;
  readonly store: TokenStore;
  readonly storeKey: string;
  /** `allowedOrigins` as `new URL().origin` writes them. */
  readonly extraOrigins: readonly string[];
  readonly context: ProviderContext;
}

export function resolveOptions(options: TokenManagerOptions): ResolvedOptions {
  const provider = options?.provider;
  if (!provider || typeof provider.fetchToken !== 'function' || typeof provider.identity !== 'string') {
    throw new ConfigError('provider', 'TokenManager: provider is required (crowdstrike(), onelogin(), clientCredentials() or your own TokenProvider)');
  }
  const source = options.clock ?? systemClock;
  if (typeof source.now !== 'function') throw new ConfigError('clock', 'TokenManager: clock must have a now() method');
  // Without a monotonic clock (a test clock), the wall clock stands in for it.
  const clock = source === systemClock ? (systemClock as Required<Clock>) : { now: () => source.now(), monotonic: source.monotonic ? () => source.monotonic!() : () => source.now() };
  const extraOrigins = (options.allowedOrigins ?? []).map((url) => {
    const origin = typeof url === 'string' ? originOf(url) : undefined;
    if (origin === undefined) throw new ConfigError('allowedOrigins', `TokenManager: allowedOrigins must be http(s) URLs, got ${JSON.stringify(url)}`);
    return origin;
  });
  const defaultLifetimeMs = nonNegative(options.defaultLifetimeMs, DEFAULT_LIFETIME_MS, 'defaultLifetimeMs');
  return {
    provider,
    clock,
    policy: { refreshWindowMs: nonNegative(options.refreshWindowMs, DEFAULT_REFRESH_WINDOW_MS, 'refreshWindowMs') },
    retry: resolveRetry(options.retry),
    store: options.store ?? memoryStore(),
    storeKey: storeKey(provider.identity),
    extraOrigins,
    context: { http: options.http ?? createTokenHttp(), clock, defaultLifetimeMs },
  };
}

function nonNegative(value: unknown, fallback: number, option: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) {
    throw new ConfigError(option, `TokenManager: ${option} must be a non-negative number of ms, got ${String(value)}`);
  }
  return value;
}
