// A plain RFC 6749 token server: form POST, Basic or body credentials (form-decoded, as RFC 6749
// §2.3.1 says, unless told to read Basic raw), RFC 7523 client assertions, RFC 6749 §5.2 errors,
// RFC 7009 revocation, RFC 6750 401s, RFC 8707 resources (repeated `resource` parameters). The
// checks of assertions, certificates and DPoP proofs are the simulator's (client-auth.ts, mtls.ts,
// dpop.ts): the dialect only says what the request carries.
import { basic, formOf, type ClaimOptions, type ClientClaim, type Reply, type ServerDialect, type SimRequest } from '../dialect';

const rfcError = (status: number, error: string, description: string, headers?: Record<string, string>): Reply => ({
  status,
  body: { error, error_description: description },
  ...(headers && { headers }),
});

const clientRefused = (why: string | undefined): Reply =>
  rfcError(401, 'invalid_client', `Client authentication failed${why ? `: ${why}` : ''}`, { 'WWW-Authenticate': 'Basic realm="token"' });

/** The client's credentials, however it sent them; more than one method at once is refused (RFC 6749 §2.3). */
function credentialsOf(request: SimRequest, form: URLSearchParams | undefined, options: ClaimOptions): ClientClaim {
  const header = request.headers['authorization'];
  const viaBasic = /^basic\s/i.test(header ?? '') ? basic(header, options.basicDecoding === 'form') : undefined;
  const bodySecret = form?.get('client_secret') ?? undefined;
  const assertion = form?.get('client_assertion') ?? undefined;
  const assertionType = form?.get('client_assertion_type') ?? undefined;
  const bodyId = form?.get('client_id') ?? undefined;
  const used = [viaBasic && 'basic', bodySecret !== undefined && 'post', (assertion !== undefined || assertionType !== undefined) && 'assertion'].filter(
    (method): method is 'basic' | 'post' | 'assertion' => typeof method === 'string',
  );
  const via = used.length > 1 ? 'several' : (used[0] ?? 'none');
  // A Basic header and a body client_id that disagree name two clients.
  const clash = viaBasic?.clientId !== undefined && bodyId !== undefined && bodyId !== viaBasic.clientId;
  const clientId = viaBasic?.clientId ?? bodyId;
  const clientSecret = viaBasic?.clientSecret ?? bodySecret;
  const problem = via === 'several' || clash ? 'invalid_request' : undefined;
  return {
    via,
    ...(clientId && { clientId }),
    ...(clientSecret && { clientSecret }),
    ...(assertion !== undefined && { assertion }),
    ...(assertionType !== undefined && { assertionType }),
    ...(problem && { problem }),
  };
}

export const oauth2Dialect: ServerDialect = {
  tokenPath: '/oauth/token',
  revokePath: '/oauth/revoke',
  successStatus: 200,
  defaultLifetimeSeconds: 3600,
  reusesTokens: false,
  newClientId: () => 'sim-oauth2-client',
  tokenClaim(request, options) {
    const form = formOf(request);
    if (!form) return { problem: 'invalid_request' };
    const credentials = credentialsOf(request, form, options);
    const scope = form.get('scope') ?? undefined;
    const resources = form.getAll('resource');
    const problem = credentials.problem ?? (form.get('grant_type') !== 'client_credentials' ? 'unsupported_grant_type' : undefined);
    return { ...credentials, ...(scope && { scope }), ...(resources.length > 0 && { resources }), ...(problem && { problem }) };
  },
  revokeClaim(request, options) {
    const form = formOf(request);
    const credentials = credentialsOf(request, form, options);
    const token = form?.get('token') ?? undefined;
    const problem = credentials.problem ?? (token ? undefined : 'invalid_request');
    return { ...credentials, ...(token && { token }), ...(problem && { problem }) };
  },
  tokenBody: (token, expiresIn, _now, scope, extras) => ({
    access_token: token,
    token_type: extras?.tokenType ?? 'Bearer',
    ...(!extras?.omitExpiresIn && { expires_in: expiresIn }),
    ...(extras?.refreshIn !== undefined && { refresh_in: extras.refreshIn }),
    ...(scope && { scope }),
  }),
  revokeOk: () => ({}),
  error: (status, message) => rfcError(status, status === 400 ? message : status === 429 ? 'slow_down' : 'server_error', message),
  tokenHeaders: () => ({}),
  badCredentials: (_claimedId, why) => clientRefused(why),
  revokeRefused: (why) => clientRefused(why),
  accessDenied: () => rfcError(403, 'access_denied', 'access denied, authorization failed'),
  memberRefused: () => rfcError(400, 'invalid_target', 'the client may not act for that tenant'),
  rateLimitHeaders: (seconds) => ({ 'Retry-After': String(Math.ceil(seconds)) }),
  unauthorized: () => ({
    status: 401,
    body: { error: 'invalid_token', error_description: 'The access token is invalid or expired' },
    headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
  }),
};
