// What the simulator counts.

/** One token call as the simulator saw it. */
export interface TokenCallRecord {
  /** Server-clock ms when the call arrived. */
  readonly at: number;
  /** The status it was answered with, or how it was dropped. */
  status: number | 'reset' | 'hang' | 'pending';
  /** The pause a 429 asked for, in ms. */
  retryAfterMs?: number;
  /** How the client authenticated (oauth2), as far as the simulator could tell. */
  authMethod?: SeenAuthMethod;
  /** The client assertion's header and claims, when one came (RFC 7523). */
  assertion?: AssertionRecord;
  /** The DPoP proof, when one came (RFC 9449). */
  dpop?: DpopProofRecord;
  /** Why the simulator refused the client or its proof, in its own words. */
  refusal?: string;
  /** RFC 8705: the `x5t#S256` of the client certificate the connection presented (with `tls`); absent: none was. */
  clientCertificate?: string;
  /** RFC 8707: every `resource` parameter of the call, in order (absent: none). */
  resources?: readonly string[];
  /** CrowdStrike MSSP: the `member_cid` the call asked a token for (absent: the parent's own token). */
  memberCid?: string;
  /** The address the call came from (the budget's key). */
  source?: string;
}

/** How a client authenticated at the token or revocation endpoint; `'none'`: only a client_id, or nothing. */
export type SeenAuthMethod =
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'client_secret_jwt'
  | 'private_key_jwt'
  | 'tls_client_auth'
  | 'self_signed_tls_client_auth'
  | 'none'
  | 'several';

/** One API request to a TLS listener (with `tls`). */
export interface ApiTlsRecord {
  readonly at: number;
  readonly path: string;
  /** The `x5t#S256` of the client certificate the connection presented; absent: none was. */
  readonly clientCertificate?: string;
  /** The `x5t#S256` the request's token is bound to, when it is one of ours and certificate-bound. */
  readonly boundTo?: string;
  /** 200, or the 401 it got. */
  readonly status: number;
}

/** One revocation call as the simulator saw it. */
export interface RevokeCallRecord {
  readonly at: number;
  status: number | 'reset' | 'hang' | 'pending';
  authMethod?: SeenAuthMethod;
  assertion?: AssertionRecord;
  refusal?: string;
  clientCertificate?: string;
  /** The pause a 429 of the token-endpoint budget asked for, in ms. */
  retryAfterMs?: number;
  /** The address the call came from (the budget's key). */
  source?: string;
}

/** What a client assertion said (whether or not it was accepted). */
export interface AssertionRecord {
  readonly alg: unknown;
  readonly typ?: unknown;
  readonly kid?: unknown;
  readonly iss: unknown;
  readonly sub: unknown;
  readonly aud: unknown;
  readonly jti: unknown;
  readonly iat?: unknown;
  readonly exp: unknown;
}

/** A DPoP proof the simulator saw, at the token endpoint or the API. */
export interface DpopProofRecord {
  readonly at: number;
  readonly endpoint: 'token' | 'api';
  readonly typ: unknown;
  readonly alg: unknown;
  readonly htm: unknown;
  readonly htu: unknown;
  readonly iat: unknown;
  readonly jti: unknown;
  readonly ath?: unknown;
  readonly nonce?: unknown;
  /** RFC 7638 thumbprint of the embedded key, when it is one. */
  readonly jkt?: string;
  /** `'ok'`, `'ignored'` (the simulator does no DPoP), or what was wrong with it. */
  readonly verdict: string;
}

export interface SimulatorStats {
  tokenCalls: number;
  tokensIssued: number;
  revokeCalls: number;
  tokensRevoked: number;
  apiCalls: number;
  apiOk: number;
  api401: number;
  /** Server-clock ms of every 401 the API answered (CrowdStrike allows 15 a minute per IP). */
  api401Times: number[];
  /** API requests whose bearer had expired: a client bug. */
  expiredTokenSends: number;
  revokedTokenSends: number;
  /** API requests sent to a cloud the credentials do not belong to (with `regions`). */
  wrongRegionSends: number;
  unknownTokenSends: number;
  missingTokenSends: number;
  /** Every token call, in order. */
  tokenCallLog: TokenCallRecord[];
  /** Every revocation call, in order. */
  revokeCallLog: RevokeCallRecord[];
  /** Every DPoP proof that arrived, at the token endpoint or the API, in order. */
  dpopProofs: DpopProofRecord[];
  /** API requests refused for DPoP's sake: no proof, a bad one, a stale nonce, a bound token sent as Bearer. */
  dpopRefusals: number;
  /** Every API request to a TLS listener, in order (with `tls`). */
  apiTlsLog: ApiTlsRecord[];
  /** API requests refused because their certificate-bound token came on a connection without that certificate. */
  certificateRefusals: number;
  /** CrowdStrike MSSP: token calls per `member_cid` (every call that named one, whatever its answer). */
  tokenCallsByMember: Record<string, number>;
  /** CrowdStrike MSSP: API requests with a good token answered 403 (for another CID, a child's token at the children listing). */
  apiForbidden: number;
  /** Token calls the token-endpoint budget answered 429 (injected faults not counted). */
  tokenRateLimited: number;
  /** Revocation calls the token-endpoint budget answered 429. */
  revokeRateLimited: number;
  /** The most token calls that arrived in any 60 s (server clock, every source, 429s included; revokes not counted). */
  peakTokenCallsPerMinute: number;
}

/** When a token was issued: `sequence` counts issued tokens (1 for the first). */
export interface TokenIssuance {
  readonly sequence: number;
  readonly issuedAt: number;
  readonly expiresAt: number;
  /** RFC 9449 `cnf.jkt`: the thumbprint of the DPoP key the token is bound to. */
  readonly jkt?: string;
  /** RFC 8705 `cnf.x5t#S256`: the thumbprint of the client certificate the token is bound to. */
  readonly x5tS256?: string;
  /** CrowdStrike MSSP: the child CID the token acts for (absent: the credentials' own CID). */
  readonly memberCid?: string;
}

export const emptyStats = (): SimulatorStats => ({
  tokenCalls: 0,
  tokensIssued: 0,
  revokeCalls: 0,
  tokensRevoked: 0,
  apiCalls: 0,
  apiOk: 0,
  api401: 0,
  api401Times: [],
  expiredTokenSends: 0,
  revokedTokenSends: 0,
  wrongRegionSends: 0,
  unknownTokenSends: 0,
  missingTokenSends: 0,
  tokenCallLog: [],
  revokeCallLog: [],
  dpopProofs: [],
  dpopRefusals: 0,
  apiTlsLog: [],
  certificateRefusals: 0,
  tokenCallsByMember: Object.create(null) as Record<string, number>,
  apiForbidden: 0,
  tokenRateLimited: 0,
  revokeRateLimited: 0,
  peakTokenCallsPerMinute: 0,
});
