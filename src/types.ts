// Every public type of tokenwarden lives here, so the contract can be read in one file.
import type { AxiosInstance } from 'axios';
import type { TokenError, TokenErrorCode } from './errors';
import type { TokenBudget } from './core/budget';

/** A client-credentials access token as the manager holds it. Objects handed out are frozen. */
export interface AccessToken {
  readonly accessToken: string;
  /** `'Bearer'`, or `'DPoP'` for a token bound to the manager's DPoP key (RFC 9449). */
  readonly tokenType: string;
  /** Epoch ms. Counted from the moment the token request was sent, not from when it arrived. */
  readonly expiresAt: number;
  /** Epoch ms at which the token request was sent. */
  readonly issuedAt: number;
  readonly scope?: string;
  /** Epoch ms: the server's hint for when to refresh (Entra's `refresh_in`), when it gave one. */
  readonly refreshAt?: number;
}

/**
 * Where a manager's token stands: none yet (or the last one was refused), usable, due for its
 * background refresh, past its use (callers wait), being refreshed, usable though the last refresh
 * failed, or disposed.
 */
export type TokenState = 'no-token' | 'usable' | 'refresh-due' | 'must-refresh' | 'refreshing' | 'failing' | 'disposed';

/** A manager's health (`status().state`): the README's "Health and readiness" says what each means. */
export type TokenHealth = 'starting' | 'ready' | 'refreshing' | 'degraded' | 'failed' | 'disposed';

/** What `status()` returns: a cheap snapshot with no token, key or server string in it. */
export interface TokenStatus {
  readonly state: TokenHealth;
  /** A token may be sent now: what a readiness probe asks. */
  readonly usable: boolean;
  /** When the token held expires (epoch ms), and how long until then. */
  readonly expiresAt?: number;
  readonly expiresInMs?: number;
  /** When the background refresh (or the retry after a failure) is due, epoch ms. */
  readonly nextRefreshAt?: number;
  /** The last new token: when it arrived and why it was fetched (or adopted from the store). */
  readonly lastRefresh?: { readonly at: number; readonly reason: RefreshReason };
  /** The last failed refresh: our own message, never the server's words. */
  readonly lastError?: { readonly at: number; readonly code: TokenErrorCode; readonly message: string };
  /** Failed refreshes since the last new token. */
  readonly consecutiveFailures: number;
  /** Token-endpoint attempts this manager made (retries count; tokens adopted from the store do not). */
  readonly tokenCalls: number;
}

/**
 * Why a new token was fetched: the first one, ahead of expiry in the background, because a caller
 * found the token expired (a timer that fired late, a failed background refresh), after a 401, or
 * on `refresh()`.
 */
export type RefreshReason = 'initial' | 'scheduled' | 'expired' | 'unauthorized' | 'manual';

/**
 * Where time comes from. `now()` is the wall clock (epoch ms). `monotonic()` is a clock that never
 * jumps (default `performance.now()`); a token is usable only while both clocks say so, which
 * survives wall-clock jumps (monotonic) and laptop sleep (wall).
 */
export interface Clock {
  now(): number;
  monotonic?(): number;
}

/** What a provider gets for each call: the manager's private HTTP client and policy. */
export interface ProviderContext {
  /** Axios instance for token calls; never has the manager's interceptors. */
  readonly http: AxiosInstance;
  readonly clock: Clock;
  /** Lifetime given to a token whose response has no `expires_in`. */
  readonly defaultLifetimeMs: number;
  /**
   * Aborted when the manager gives up on the call (its deadline, or dispose): pass it to the HTTP
   * request. Its `reason` is the TokenError to fail with.
   */
  readonly signal?: AbortSignal;
  /** The deadline of one token call in ms, headers and body (`attemptTimeoutMs`). */
  readonly timeoutMs?: number;
  /**
   * With a shared budget: wait for a turn before each HTTP call to the token or revocation
   * endpoint (the built-in providers do, in every call they make). A provider that never calls it
   * is charged one turn per attempt.
   */
  readonly turn?: () => Promise<void>;
  /** Tell the manager what a token response's rate-limit headers said (a shared budget tightens to them). */
  readonly rateLimit?: (limit: number | undefined, remaining: number | undefined) => void;
}

/**
 * One token endpoint. Implement it to support another server; the built-in ones are
 * `crowdstrike()`, `onelogin()` and `clientCredentials()`.
 */
export interface TokenProvider {
  /** Short name for messages, e.g. `'crowdstrike'`. */
  readonly name: string;
  /** Base URL of the API the token is for; relative request URLs go here. Undefined if unknown. */
  readonly baseUrl: string | undefined;
  /**
   * A stable string that tells token sources apart (token URL, client id, tenant, scope), used to
   * derive store keys. Encode it unambiguously (the built-in providers use `JSON.stringify` of an
   * array), so that no two sources share one. Never the secret.
   */
  readonly identity: string;
  /**
   * What only the credential's holder has: the client secret (a private key, for key-based client
   * authentication). Store key names and sealed entries are derived from it, so a tenant of a
   * shared store who knows the client id but not the secret can neither find nor read the token.
   * Never sent anywhere and never shown. A provider without it cannot use a store of yours.
   */
  storeSecret?(): string | Uint8Array;
  /**
   * Fetch a new token. Must throw `TokenError` on failure, never an HTTP client's error. `previous`
   * is the token the new one replaces, when there is one: an endpoint that hands back the same
   * token until it is revoked (OneLogin) revokes it here first.
   */
  fetchToken(context: ProviderContext, options?: FetchOptions): Promise<AccessToken>;
  /** Revoke a token. Optional: a provider without revocation lets tokens expire. */
  revokeToken?(token: AccessToken, context: ProviderContext): Promise<void>;
  /**
   * What a replica that adopts this provider's token through a shared store must know besides the
   * token (JSON-serialisable, a few hundred bytes at most): CrowdStrike's discovered cloud.
   */
  shareState?(): unknown;
  /**
   * A token someone else fetched comes with their `shareState()`. Take what it says (a
   * discovered cloud), or return false to refuse the token: it is then fetched anew rather than
   * sent somewhere this provider does not know. Without this hook every shared token is taken.
   */
  adoptState?(state: unknown): boolean;
  /**
   * How this provider's tokens travel to the API when they are sender-constrained: a DPoP proof
   * per request (RFC 9449), the client certificate (RFC 8705). Integrations apply it to every
   * request that carries the token.
   */
  readonly binding?: SenderBinding;
}

/** What a sender-constrained token needs on each API request that carries it. */
export interface SenderBinding {
  /**
   * Headers (a DPoP proof) and the TLS agent (the client certificate) for one request: `method`
   * upper-case, `url` the absolute URL it goes to. Called on every such request: keep it cheap.
   */
  forRequest(method: string, url: string, token: AccessToken): { readonly headers?: Readonly<Record<string, string>>; readonly httpsAgent?: unknown };
  /**
   * The API answered a request that carried the token (`headers` with lower-case names). Returns
   * true when it asks for the same request again with something new (a DPoP nonce): the
   * integration then sends it once more, without a new token.
   */
  answered(url: string, status: number, headers: (name: string) => string | undefined): boolean;
}

/** What `fetchToken` is told besides its context. */
export interface FetchOptions {
  readonly previous?: PreviousToken;
}

/** The token a new one is to replace. */
export interface PreviousToken {
  readonly token: AccessToken;
  /** Still good and being served (a rotation ahead of expiry), or already refused by the API. */
  readonly live: boolean;
  /** The provider revoked it: stop serving it now (requests then wait for the new one). */
  retire(): void;
}

/** A sealed token as a store keeps it: opaque to the store and to anyone who reads it. */
export interface StoredEntry {
  /** A keyed hash of the access token inside: `delete(key, tag)` removes only the entry holding that token. */
  readonly tag: string;
  /** The token, encrypted under a key derived from the credential (AES-256-GCM). */
  readonly sealed: string;
}

/**
 * Where the current token lives. The manager keeps a local copy for the hot path and talks to the
 * store only when it is time to refresh, so a slow store never slows a request. A store that
 * fails or hangs is treated as absent until it answers again (the `error` event says so once).
 * Keys and entries come from the manager already derived from the credential: a store (and anyone
 * who can read it) learns nothing from them, and an entry it cannot have been given is ignored.
 */
export interface TokenStore {
  /**
   * Shared with other processes (Redis). The manager then jitters its refresh moments, and
   * `dispose()` revokes the token only when asked: other replicas are still using it.
   */
  readonly shared?: boolean;
  /**
   * The entry under `key` with the ms it has left by the store's own clock, or undefined. An entry
   * without a positive `ttlMs` (one that never expires) is ignored: tokenwarden never writes one.
   */
  get(key: string): Promise<(StoredEntry & { readonly ttlMs: number }) | undefined>;
  /** Keep `entry` under `key` for `ttlMs`, replacing what is there. */
  set(key: string, entry: StoredEntry, ttlMs: number): Promise<void>;
  /** Delete `key`; with `tag`, only if the entry there has that tag (a newer token stays). */
  delete(key: string, tag?: string): Promise<void>;
  /**
   * Take the lock that lets one holder (one process in a fleet) refresh the token under `key`, or
   * undefined while another holds it. The store gives the lock a lease, renewed while it is held,
   * so a holder that dies cannot keep it. Optional: without it there is no single flight across
   * holders.
   */
  lock?(key: string): Promise<StoreLock | undefined>;
  /**
   * Call `deleted(tag)` whenever anyone sharing the store, in any process, calls `delete(key, tag)`, until the returned function is called.
   * Optional: with it, the first replica whose shared token the API refuses tells the others, and they switch before they send it (one
   * 401 for a fleet, not one per replica). Only the tag travels. A notice only makes a manager whose token has that tag read the store.
   */
  watch?(key: string, deleted: (tag: string) => void): () => void;
}

/** A held refresh lock. */
export interface StoreLock {
  /**
   * Give the lock up (only its holder can). With `holdMs`, keep it that much longer instead and
   * let it lapse: a refresh that failed keeps the others from calling the token endpoint through
   * the pause the server asked for.
   */
  release(holdMs?: number): Promise<void>;
}

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
}

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
