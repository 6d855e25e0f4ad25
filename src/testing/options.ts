// What a simulator can be started with.
import type { DialectName } from './dialects';
import type { SimKey } from './jws';

/** The client authentication methods the OAuth 2.0 simulator can check. */
export type SimAuthMethod =
  'client_secret_basic' | 'client_secret_post' | 'client_secret_jwt' | 'private_key_jwt' | 'tls_client_auth' | 'self_signed_tls_client_auth';

/** HTTPS for every listener, asking each client for a certificate (RFC 8705) without requiring one. */
export interface SimTlsOptions {
  /** The server's certificate (PEM): clients must trust it (its CA, or itself), and it must name 127.0.0.1. */
  cert: string | Buffer;
  /** Its private key (PEM). */
  key: string | Buffer;
  /** The CA (or CAs) whose client certificates `tls_client_auth` takes. */
  ca?: string | Buffer | readonly (string | Buffer)[];
}

/** DPoP (RFC 9449) at the OAuth 2.0 simulator's token endpoint and API. */
export interface DpopServerOptions {
  /** Refuse token calls without a proof (400 `invalid_dpop_proof`). Default false: Bearer tokens for those. */
  required?: boolean;
  /**
   * Server nonces (RFC 9449 §8, §9): every answer carries `DPoP-Nonce`; a proof without the current
   * one gets 400 `use_dpop_nonce` at the token endpoint, 401 `WWW-Authenticate: DPoP
   * error="use_dpop_nonce"` at the API. `rotateDpopNonce()` makes the current one stale. Default false.
   */
  nonce?: boolean;
  /** How far a proof's `iat` may be from the server's clock, either way, in seconds. Default 60. */
  proofWindowSeconds?: number;
  /** The proof algorithms accepted. Default every asymmetric JWS algorithm. */
  algorithms?: readonly string[];
}

export interface SimulatorOptions {
  dialect: DialectName;
  clientId?: string;
  clientSecret?: string;
  /** The (first) listener's port. Default 0: a free one. */
  port?: number;
  /** The address to listen on. Default `'127.0.0.1'`: only this machine can reach it. */
  host?: string;
  /** Default: the vendor's (CrowdStrike 1799, OneLogin 36000, OAuth 2.0 3600). */
  tokenLifetimeSeconds?: number;
  /**
   * Round trip of the token and revoke endpoints: half before the server acts (a token is issued
   * mid-flight, as on a real network), half on the way back.
   */
  latencyMs?: number;
  /** Delay before an API request's token is checked and answered. */
  apiLatencyMs?: number;
  /**
   * CrowdStrike: one listener per cloud, sharing tokens; `urlFor(cloud)` gives each address. The
   * API accepts tokens at the home cloud only.
   */
  regions?: readonly string[];
  /** CrowdStrike: the cloud `X-Cs-Region` names. Default: the first region. */
  homeRegion?: string;
  /** The server's clock minus ours: shows in `Date`, `X-Ratelimit-Retryafter`, `created_at`. */
  clockOffsetMs?: number;
  /**
   * CrowdStrike MSSP: the child CIDs the credentials may act for (`member_cid`; any other gets 403
   * `Failed to generate access token for customer ID=...`), listed at `GET /mssp/queries/children/v1`.
   * Default: any CID, none listed.
   */
  memberCids?: readonly string[];
  /** CrowdStrike: the CID the credentials belong to (the parent's), which its own tokens act for. Default: 32 random hex digits. */
  cid?: string;
  /**
   * CrowdStrike: token and revocation calls per source IP in any 60 s (a sliding window on the
   * server's clock, shared by both endpoints; a refused call takes no room); past it, 429 with
   * `X-Ratelimit-Retryafter`. Every answer of either endpoint then says `X-Ratelimit-Limit` and
   * `X-Ratelimit-Remaining`. CrowdStrike documents about 300. Default: no budget (token answers say
   * `X-Ratelimit-Limit: 300` and nothing more).
   */
  tokenBudgetPerMinute?: number;
  /**
   * Count a token's life from its issue time rounded down to the second, as oidc-provider does: a
   * token then dies up to 1 s before `sent + expires_in`. Default false.
   */
  roundIssuedAt?: boolean;

  // OAuth 2.0 only:
  /** private_key_jwt: the client's public key or keys (PEM, JWK or KeyObject; a private key stands for its public half). */
  clientKeys?: SimKey | readonly SimKey[];
  /** The client authentication methods accepted. Default: every one it can check (private_key_jwt only with clientKeys). */
  authMethods?: readonly SimAuthMethod[];
  /** The `aud` a client assertion may name. Default: the token endpoint's URL and the issuer (the listener's base URL). */
  assertionAudiences?: readonly string[];
  /** The longest a client assertion may still live (`exp` minus now), in seconds. Default 300. */
  maxAssertionLifetimeSeconds?: number;
  /**
   * How the Basic header is read: `'form'` (RFC 6749 §2.3.1: id and secret form-decoded, the
   * default) or `'raw'` (as they are, as @node-oauth/oauth2-server does).
   */
  basicDecoding?: 'form' | 'raw';
  /** DPoP (RFC 9449): `true` to verify proofs and bind tokens to their keys. Default off: proofs are ignored, Bearer tokens issued. */
  dpop?: boolean | DpopServerOptions;
  /** Send `refresh_in` (seconds, Entra's hint) with every token. */
  refreshInSeconds?: number;
  /** Leave `expires_in` out of token answers. */
  omitExpiresIn?: boolean;
  /** Issue access tokens as JWTs (RFC 9068, HS256 under a key of the simulator's) with `iss`, `sub`, `client_id`, `iat`, `exp`, `jti`, `scope`, `cnf.jkt`. */
  jwtAccessTokens?: boolean;
  /**
   * mTLS (RFC 8705): every listener speaks HTTPS and asks for a client certificate. Tokens issued
   * to a connection that presented one are bound to it (`cnf.x5t#S256`); the API then refuses them
   * (401 `invalid_token`) on a connection without that certificate.
   */
  tls?: SimTlsOptions;
  /**
   * `tls_client_auth`: the subject DN the client's certificate must have (`'CN=tls-client'`; several
   * attributes comma-separated, in any order), and the certificate must chain to `tls.ca`.
   */
  tlsClientSubject?: string;
  /**
   * `self_signed_tls_client_auth`: the client's registered certificates, as PEM texts or as their
   * SHA-256 thumbprints (base64url, the `x5t#S256` form).
   */
  selfSignedThumbprints?: readonly (string | Buffer)[];
  /**
   * RFC 8707: the resources tokens may be asked for; a `resource` not in the list is refused (400
   * `invalid_target`). Default: any absolute URI without a fragment.
   */
  resources?: readonly string[];
}

const OAUTH2_ONLY = [
  'clientKeys',
  'authMethods',
  'assertionAudiences',
  'maxAssertionLifetimeSeconds',
  'basicDecoding',
  'dpop',
  'refreshInSeconds',
  'omitExpiresIn',
  'jwtAccessTokens',
  'tls',
  'tlsClientSubject',
  'selfSignedThumbprints',
  'resources',
] as const;

const CROWDSTRIKE_ONLY = ['cid', 'tokenBudgetPerMinute'] as const;

/** Throws a TypeError for an option the dialect does not speak. */
export function checkSimulatorOptions(options: SimulatorOptions): void {
  const foreign = options.dialect === 'oauth2' ? [] : OAUTH2_ONLY.filter((name) => options[name] !== undefined);
  if (foreign.length > 0) throw new TypeError(`startSimulator: ${foreign.join(', ')} ${foreign.length > 1 ? 'are' : 'is'} for the oauth2 dialect only`);
  const notCrowdStrike = options.dialect === 'crowdstrike' ? [] : CROWDSTRIKE_ONLY.filter((name) => options[name] !== undefined);
  if (notCrowdStrike.length > 0)
    throw new TypeError(`startSimulator: ${notCrowdStrike.join(', ')} ${notCrowdStrike.length > 1 ? 'are' : 'is'} for the crowdstrike dialect only`);
  if (options.port !== undefined && !(Number.isInteger(options.port) && options.port >= 0 && options.port <= 65535))
    throw new TypeError('startSimulator: port must be an integer from 0 to 65535');
  if (options.host !== undefined && (typeof options.host !== 'string' || options.host === ''))
    throw new TypeError('startSimulator: host must be a non-empty string');
  const budget = options.tokenBudgetPerMinute;
  if (budget !== undefined && !(Number.isInteger(budget) && budget >= 1))
    throw new TypeError('startSimulator: tokenBudgetPerMinute must be a positive integer');
  if (options.basicDecoding !== undefined && options.basicDecoding !== 'form' && options.basicDecoding !== 'raw')
    throw new TypeError(`startSimulator: basicDecoding must be 'form' or 'raw'`);
  const tls = options.tls;
  if (tls !== undefined && (tls === null || typeof tls !== 'object' || tls.cert === undefined || tls.key === undefined))
    throw new TypeError('startSimulator: tls must be { cert, key, ca? }');
  if (options.tlsClientSubject !== undefined && (typeof options.tlsClientSubject !== 'string' || tls?.ca === undefined))
    throw new TypeError('startSimulator: tlsClientSubject is a subject DN, and needs tls: { cert, key, ca } (the CA that signs client certificates)');
  if (options.selfSignedThumbprints !== undefined && tls === undefined) throw new TypeError('startSimulator: selfSignedThumbprints needs tls: { cert, key }');
  if (options.resources !== undefined && (!Array.isArray(options.resources) || options.resources.some((r) => typeof r !== 'string')))
    throw new TypeError('startSimulator: resources must be an array of URIs');
}
