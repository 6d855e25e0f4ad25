// A plain RFC 6749 token server: form POST, Basic or body credentials (form-decoded, as RFC 6749
// §2.3.1 says), RFC 6749 §5.2 errors, RFC 7009 revocation, RFC 6750 401s.
import { basic, formOf, type Reply, type ServerDialect } from '../dialect';

const rfcError = (status: number, error: string, description: string, headers?: Record<string, string>): Reply => ({
  status,
  body: { error, error_description: description },
  ...(headers && { headers }),
});

export const oauth2Dialect: ServerDialect = {
  tokenPath: '/oauth/token',
  revokePath: '/oauth/revoke',
  successStatus: 200,
  defaultLifetimeSeconds: 3600,
  reusesTokens: false,
  newClientId: () => 'sim-oauth2-client',
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
  tokenHeaders: () => ({}),
  badCredentials: () => rfcError(401, 'invalid_client', 'Client authentication failed', { 'WWW-Authenticate': 'Basic realm="token"' }),
  revokeRefused: () => rfcError(401, 'invalid_client', 'Client authentication failed', { 'WWW-Authenticate': 'Basic realm="token"' }),
  accessDenied: () => rfcError(403, 'access_denied', 'access denied, authorization failed'),
  memberRefused: () => rfcError(400, 'invalid_target', 'the client may not act for that tenant'),
  rateLimitHeaders: (seconds) => ({ 'Retry-After': String(Math.ceil(seconds)) }),
  unauthorized: () => ({
    status: 401,
    body: { error: 'invalid_token', error_description: 'The access token is invalid or expired' },
    headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
  }),
};
