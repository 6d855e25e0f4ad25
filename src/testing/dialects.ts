// How each vendor's token server reads a request and shapes its answers, from wire-protocols.md.
// Where the vendors' behaviour is unverified, the simulator takes the case hardest for a client.
import { randomUUID } from 'node:crypto';

export type DialectName = 'crowdstrike' | 'onelogin' | 'oauth2';

export interface SimRequest {
  readonly method: string;
  readonly path: string;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
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
}

export interface Dialect {
  readonly tokenPath: string;
  readonly revokePath: string;
  readonly successStatus: number;
  readonly defaultLifetimeSeconds: number;
  /** The endpoint hands out the same token until it expires or is revoked. */
  readonly reusesTokens: boolean;
  tokenClaim(request: SimRequest): ClientClaim;
  revokeClaim(request: SimRequest): ClientClaim & { token?: string };
  tokenBody(token: string, expiresIn: number, serverNow: number, scope: string | undefined): unknown;
  revokeOk(): unknown;
  error(status: number, message: string): Reply;
  badCredentials(): Reply;
  rateLimitHeaders(retryAfterSeconds: number, serverNow: number): Record<string, string>;
  unauthorized(path: string): Reply;
}

function basic(header: string | undefined, urlEncoded: boolean): { clientId?: string; clientSecret?: string } {
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

function formOf(request: SimRequest): URLSearchParams | undefined {
  return /application\/x-www-form-urlencoded/i.test(request.headers['content-type'] ?? '') ? new URLSearchParams(request.body) : undefined;
}

function jsonOf(request: SimRequest): Record<string, unknown> | undefined {
  if (!/application\/json/i.test(request.headers['content-type'] ?? '')) return undefined;
  try {
    const value: unknown = JSON.parse(request.body);
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const csMeta = () => ({ query_time: 0.01, powered_by: 'csam', trace_id: randomUUID() });
const csError = (status: number, message: string): Reply => ({ status, body: { meta: csMeta(), errors: [{ code: status, message }] }, headers: { 'X-Cs-Traceid': randomUUID() } });

export const crowdstrikeDialect: Dialect = {
  tokenPath: '/oauth2/token',
  revokePath: '/oauth2/revoke',
  successStatus: 201,
  defaultLifetimeSeconds: 1799,
  reusesTokens: false,
  tokenClaim(request) {
    const form = formOf(request);
    const viaBasic = basic(request.headers['authorization'], false);
    if (!form) return { problem: 'Content-Type must be application/x-www-form-urlencoded' };
    const clientId = form.get('client_id') ?? viaBasic.clientId;
    const clientSecret = form.get('client_secret') ?? viaBasic.clientSecret;
    const memberCid = form.get('member_cid') ?? undefined;
    return { ...(clientId && { clientId }), ...(clientSecret && { clientSecret }), ...(memberCid && { memberCid }) };
  },
  revokeClaim(request) {
    const form = formOf(request);
    const token = form?.get('token') ?? undefined;
    return { ...basic(request.headers['authorization'], false), ...(token && { token }), ...(!form && { problem: 'Content-Type must be application/x-www-form-urlencoded' }) };
  },
  tokenBody: (token, expiresIn) => ({ access_token: token, token_type: 'bearer', expires_in: expiresIn }),
  revokeOk: () => ({ meta: csMeta(), errors: [] }),
  error: csError,
  badCredentials: () => csError(403, 'Failed to issue access token - Client authentication failed'),
  rateLimitHeaders: (seconds, now) => ({ 'X-Ratelimit-Retryafter': String(Math.ceil(now / 1000 + seconds)), 'X-Ratelimit-Limit': '300', 'X-Ratelimit-Remaining': '0' }),
  unauthorized: () => csError(401, 'access denied, invalid bearer token'),
};

const olStatus = (status: number, type: string, message: string) => ({ status: { error: status >= 400, code: status, type, message } });

export const oneloginDialect: Dialect = {
  tokenPath: '/auth/oauth2/v2/token',
  revokePath: '/auth/oauth2/revoke',
  successStatus: 200,
  defaultLifetimeSeconds: 36_000,
  reusesTokens: true,
  tokenClaim(request) {
    const header = request.headers['authorization'];
    const legacy = /client_id:\s*([^,]+),\s*client_secret:\s*(.+)$/i.exec(header ?? '');
    const creds = legacy ? { clientId: legacy[1]!.trim(), clientSecret: legacy[2]!.trim() } : basic(header, false);
    const json = jsonOf(request);
    if (!json || json['grant_type'] !== 'client_credentials') return { ...creds, problem: 'grant_type is incorrect/absent' };
    return creds;
  },
  revokeClaim(request) {
    const json = jsonOf(request);
    const token = typeof json?.['access_token'] === 'string' ? json['access_token'] : undefined;
    const problem = !json ? 'Content Type is not supported' : !token ? 'Access Token Missing' : undefined;
    return { ...basic(request.headers['authorization'], false), ...(token && { token }), ...(problem && { problem }) };
  },
  tokenBody: (token, expiresIn, now) => ({
    access_token: token, created_at: new Date(now).toISOString(), expires_in: expiresIn,
    refresh_token: `unused-${token.slice(-8)}`, token_type: 'bearer', account_id: 555555,
  }),
  revokeOk: () => olStatus(200, 'success', 'Success'),
  error: (status, message) => ({ status, body: olStatus(status, status === 400 ? 'bad request' : status === 429 ? 'Too Many Requests' : 'Internal Server Error', message) }),
  badCredentials: () => ({ status: 401, body: olStatus(401, 'Unauthorized', 'Authentication Failure') }),
  rateLimitHeaders: (seconds) => ({ 'X-RateLimit-Limit': '5000', 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': String(Math.ceil(seconds)) }),
  unauthorized: (path) =>
    path.startsWith('/api/2/')
      ? { status: 401, body: { message: 'Unauthorized', statusCode: 401, name: 'UnauthorizedError' } }
      : { status: 401, body: olStatus(401, 'Unauthorized', 'Authentication Failure') },
};

const rfcError = (status: number, error: string, description: string, headers?: Record<string, string>): Reply => ({
  status, body: { error, error_description: description }, ...(headers && { headers }),
});

export const oauth2Dialect: Dialect = {
  tokenPath: '/oauth/token',
  revokePath: '/oauth/revoke',
  successStatus: 200,
  defaultLifetimeSeconds: 3600,
  reusesTokens: false,
  tokenClaim(request) {
    const form = formOf(request);
    if (!form) return { problem: 'invalid_request' };
    const viaBasic = basic(request.headers['authorization'], true);
    const clientId = viaBasic.clientId ?? form.get('client_id') ?? undefined;
    const clientSecret = viaBasic.clientSecret ?? form.get('client_secret') ?? undefined;
    const scope = form.get('scope') ?? undefined;
    const problem = form.get('grant_type') !== 'client_credentials' ? 'unsupported_grant_type' : undefined;
    return { ...(clientId && { clientId }), ...(clientSecret && { clientSecret }), ...(scope && { scope }), ...(problem && { problem }) };
  },
  revokeClaim(request) {
    const form = formOf(request);
    const viaBasic = basic(request.headers['authorization'], true);
    const clientId = viaBasic.clientId ?? form?.get('client_id') ?? undefined;
    const clientSecret = viaBasic.clientSecret ?? form?.get('client_secret') ?? undefined;
    const token = form?.get('token') ?? undefined;
    return { ...(clientId && { clientId }), ...(clientSecret && { clientSecret }), ...(token && { token }), ...(!token && { problem: 'invalid_request' }) };
  },
  tokenBody: (token, expiresIn, _now, scope) => ({ access_token: token, token_type: 'Bearer', expires_in: expiresIn, ...(scope && { scope }) }),
  revokeOk: () => ({}),
  error: (status, message) => rfcError(status, status === 400 ? message : status === 429 ? 'slow_down' : 'server_error', message),
  badCredentials: () => rfcError(401, 'invalid_client', 'Client authentication failed', { 'WWW-Authenticate': 'Basic realm="token"' }),
  rateLimitHeaders: (seconds) => ({ 'Retry-After': String(Math.ceil(seconds)) }),
  unauthorized: () => ({
    status: 401, body: { error: 'invalid_token', error_description: 'The access token is invalid or expired' },
    headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
  }),
};

export const DIALECTS: Readonly<Record<DialectName, Dialect>> = { crowdstrike: crowdstrikeDialect, onelogin: oneloginDialect, oauth2: oauth2Dialect };
