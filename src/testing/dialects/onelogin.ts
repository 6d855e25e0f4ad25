// OneLogin API v2's token server: JSON POST answered 200 with the same token until it is revoked,
// the `status` envelope, 401 for bad credentials.
import { basic, jsonOf, type ServerDialect } from '../dialect';

const olStatus = (status: number, type: string, message: string) => ({ status: { error: status >= 400, code: status, type, message } });

export const oneloginDialect: ServerDialect = {
  tokenPath: '/auth/oauth2/v2/token',
  revokePath: '/auth/oauth2/revoke',
  successStatus: 200,
  defaultLifetimeSeconds: 36_000,
  reusesTokens: true,
  newClientId: () => 'sim-onelogin-client',
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
    access_token: token,
    created_at: new Date(now).toISOString(),
    expires_in: expiresIn,
    refresh_token: `unused-${token.slice(-8)}`,
    token_type: 'bearer',
    account_id: 555555,
  }),
  revokeOk: () => olStatus(200, 'success', 'Success'),
  error: (status, message) => ({
    status,
    body: olStatus(status, status === 400 ? 'bad request' : status === 429 ? 'Too Many Requests' : 'Internal Server Error', message),
  }),
  tokenHeaders: () => ({}),
  badCredentials: () => ({ status: 401, body: olStatus(401, 'Unauthorized', 'Authentication Failure') }),
  revokeRefused: () => ({ status: 401, body: olStatus(401, 'Unauthorized', 'Authentication Failure') }),
  accessDenied: () => ({ status: 403, body: olStatus(403, 'Forbidden', 'access denied, authorization failed') }),
  memberRefused: (memberCid) => ({ status: 403, body: olStatus(403, 'Forbidden', `no access to account ${memberCid}`) }),
  rateLimitHeaders: (seconds) => ({ 'X-RateLimit-Limit': '5000', 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': String(Math.ceil(seconds)) }),
  unauthorized: (path) =>
    path.startsWith('/api/2/')
      ? { status: 401, body: { message: 'Unauthorized', statusCode: 401, name: 'UnauthorizedError' } }
      : { status: 401, body: olStatus(401, 'Unauthorized', 'Authentication Failure') },
};
