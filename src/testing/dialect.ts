// What a simulated token server needs from a vendor's dialect, and the request parsing they share.
// Where a vendor's behaviour is unverified, its dialect takes the case hardest for a client.
import type { PresentedCertificate } from './mtls';

export interface SimRequest {
  readonly method: string;
  readonly path: string;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
  /** The URL's query string, parsed. */
  readonly query?: URLSearchParams;
  /** The address the request came from (the socket's remote address). */
  readonly source?: string;
  /** The client certificate the request's TLS connection presented (with `tls`). */
  readonly clientCertificate?: PresentedCertificate;
}

export interface Reply {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ClientClaim {
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** CrowdStrike's member_cid. */
  readonly memberCid?: string;
  readonly scope?: string;
  /** What is wrong with the request itself (content type, grant type), if anything. */
  readonly problem?: string;
  /**
   * OAuth 2.0: how the request authenticates the client (a Basic header, the secret in the body, a
   * client assertion, only a client_id, or more than one of them). Other dialects leave it out.
   */
  readonly via?: 'basic' | 'post' | 'assertion' | 'none' | 'several';
  /** RFC 7523: `client_assertion_type` and `client_assertion`. */
  readonly assertionType?: string;
  readonly assertion?: string;
  /** RFC 8707: every `resource` parameter, in order. */
  readonly resources?: readonly string[];
}

/** How the simulator reads requests, where a server may read them one way or another. */
export interface ClaimOptions {
  /** `'form'`: the Basic header's id and secret are form-decoded (RFC 6749 §2.3.1); `'raw'`: taken as they are. */
  readonly basicDecoding: 'form' | 'raw';
}

/** What a token answer says beside the token (OAuth 2.0). */
export interface TokenExtras {
  readonly tokenType: 'Bearer' | 'DPoP';
  /** Leave `expires_in` out. */
  readonly omitExpiresIn: boolean;
  /** `refresh_in`, seconds (Entra's hint). */
  readonly refreshIn: number | undefined;
}

/** Everything the simulator says or reads the way one vendor does: the core of it is generic. */
export interface ServerDialect {
  readonly tokenPath: string;
  readonly revokePath: string;
  readonly successStatus: number;
  readonly defaultLifetimeSeconds: number;
  /** The endpoint hands out the same token until it expires or is revoked. */
  readonly reusesTokens: boolean;
  /** A client id of the vendor's shape, for a simulator not given one. */
  newClientId(): string;
  tokenClaim(request: SimRequest, options: ClaimOptions): ClientClaim;
  revokeClaim(request: SimRequest, options: ClaimOptions): ClientClaim & { token?: string };
  tokenBody(token: string, expiresIn: number, serverNow: number, scope: string | undefined, extras: TokenExtras): unknown;
  /** Headers of a successful token answer; `homeRegion`: the cloud the credentials belong to. */
  tokenHeaders(homeRegion: string): Record<string, string>;
  revokeOk(): unknown;
  error(status: number, message: string): Reply;
  /** A wrong client id or secret at the token endpoint (`claimedId`: the id the client sent; `why`: what was wrong). */
  badCredentials(claimedId: string | undefined, why?: string): Reply;
  /** Wrong credentials at the revoke endpoint. */
  revokeRefused(why?: string): Reply;
  /** The request's source is not allowed (an IP allowlist). */
  accessDenied(): Reply;
  /** A child tenant the credentials may not act for. */
  memberRefused(memberCid: string): Reply;
  rateLimitHeaders(retryAfterSeconds: number, serverNow: number): Record<string, string>;
  unauthorized(path: string): Reply;
}

export function basic(header: string | undefined, urlEncoded: boolean): { clientId?: string; clientSecret?: string } {
  const match = /^basic\s+(.+)$/i.exec(header ?? '');
  if (!match?.[1]) return {};
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return {};
  const part = (s: string) => (urlEncoded ? safeDecode(s) : s);
  return { clientId: part(decoded.slice(0, colon)), clientSecret: part(decoded.slice(colon + 1)) };
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}

export function formOf(request: SimRequest): URLSearchParams | undefined {
  return /application\/x-www-form-urlencoded/i.test(request.headers['content-type'] ?? '') ? new URLSearchParams(request.body) : undefined;
}

export function jsonOf(request: SimRequest): Record<string, unknown> | undefined {
  if (!/application\/json/i.test(request.headers['content-type'] ?? '')) return undefined;
  try {
    const value: unknown = JSON.parse(request.body);
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
