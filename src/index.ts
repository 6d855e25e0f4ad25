// The public surface of tokenwarden, and nothing else: every type is in ./types.
export { TokenManager } from './manager';
export { TokenPool, DEFAULT_POOL_BUDGET, type TokenPoolOptions, type TokenPoolEvents, type TokenPoolStatus } from './pool';
export { TokenError, ConfigError, isTokenError, type TokenErrorCode, type TokenErrorDetails } from './errors';
export { crowdstrike, parseCloud, CROWDSTRIKE_CLOUDS, type CrowdStrikeCloud, type CrowdStrikeOptions, type CrowdStrikeProvider } from './providers/crowdstrike';
export { onelogin, type OneLoginOptions } from './providers/onelogin';
export { clientCredentials, type ClientCredentialsOptions } from './providers/client-credentials';
export type { IssuerOptions } from './providers/discovery';
export type { AuthMethod } from './auth/client-auth';
export type { DpopOptions } from './auth/dpop';
export type { TlsOptions } from './auth/tls';
export type { SigningAlgorithm } from './auth/keys';
export { memoryStore, storeKey, type MemoryStoreOptions } from './core/store';
export { tokenBudget, TokenBudget, type TokenBudgetOptions } from './core/budget';
export { DEFAULT_REFRESH_WINDOW_MS } from './core/policy';
export { DEFAULT_RETRY } from './core/retry';
export { DEFAULT_LIFETIME_MS } from './transport/token-response';
export type {
  AccessToken,
  Clock,
  DisposeOptions,
  FetchLike,
  FetchOptions,
  GetTokenOptions,
  PreviousToken,
  ProviderContext,
  RefreshReason,
  RetryOptions,
  SenderBinding,
  TokenManagerEvents,
  TokenManagerOptions,
  TokenProvider,
  TokenHealth,
  TokenState,
  TokenStatus,
  TokenStore,
  StoreLock,
  StoredEntry,
  StoreNotice,
  TelemetryOptions,
} from './types';
