export { TokenManager } from './manager';
export { TokenError, ConfigError, type TokenErrorCode } from './errors';
export { crowdstrike, parseCloud, CROWDSTRIKE_CLOUDS, type CrowdStrikeCloud, type CrowdStrikeOptions, type CrowdStrikeProvider } from './providers/crowdstrike';
export { onelogin, type OneLoginOptions } from './providers/onelogin';
export { clientCredentials, type ClientCredentialsOptions } from './providers/client-credentials';
export { memoryStore, storeKey, type MemoryStoreOptions } from './store';
export { decide, refreshLeadMs, safetyMarginMs, DEFAULT_REFRESH_WINDOW_MS, type RefreshDecision, type RefreshPolicy } from './policy';
export { DEFAULT_RETRY } from './retry';
export { DEFAULT_LIFETIME_MS } from './token-response';
export type {
  AccessToken, Clock, DisposeOptions, GetTokenOptions, ProviderContext, RefreshReason, RetryOptions, TokenManagerEvents,
  TokenManagerOptions, TokenProvider, TokenStore, StoreLock, StoredEntry,
} from './types';
