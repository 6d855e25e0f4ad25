// What a provider is and gets: the one interface the manager knows vendors by.
import type { AxiosInstance } from 'axios';
import type { AccessToken, Clock } from './token';

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
