// CrowdStrike Falcon's token server: form POST answered 201, the `meta`/`errors` envelope, 403 for
// bad credentials, X-Cs-Region, Unix-time retry hints (X-Ratelimit-Limit and -Remaining come from
// the token-endpoint budget, budget.ts).
import { randomBytes, randomUUID } from 'node:crypto';
import { basic, formOf, type Reply, type ServerDialect } from '../dialect';

export const csMeta = () => ({ query_time: 0.01, powered_by: 'csam', trace_id: randomUUID() });
export const csError = (status: number, message: string): Reply => ({
  status,
  body: { meta: csMeta(), errors: [{ code: status, message }] },
  headers: { 'X-Cs-Traceid': randomUUID() },
});

export const crowdstrikeDialect: ServerDialect = {
  tokenPath: '/oauth2/token',
  revokePath: '/oauth2/revoke',
  successStatus: 201,
  defaultLifetimeSeconds: 1799,
  reusesTokens: false,
  // CrowdStrike client ids are 32 hex characters.
  newClientId: () => randomBytes(16).toString('hex'),
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
    return {
      ...basic(request.headers['authorization'], false),
      ...(token && { token }),
      ...(!form && { problem: 'Content-Type must be application/x-www-form-urlencoded' }),
    };
  },
  tokenBody: (token, expiresIn) => ({ access_token: token, token_type: 'bearer', expires_in: expiresIn }),
  revokeOk: () => ({ meta: csMeta(), errors: [] }),
  error: csError,
  tokenHeaders: (homeRegion) => ({ 'X-Cs-Region': homeRegion }),
  // A malformed client id is refused as such (400); a well-formed wrong one like a wrong secret.
  badCredentials: (claimedId) =>
    claimedId && !/^[a-z0-9]+$/i.test(claimedId)
      ? csError(400, `Failed to generate access token for clientID=${claimedId}.`)
      : csError(403, 'Failed to issue access token - Client authentication failed'),
  revokeRefused: () => csError(403, 'access denied, authorization failed'),
  accessDenied: () => csError(403, 'access denied, authorization failed'),
  memberRefused: (memberCid) => csError(403, `Failed to generate access token for customer ID=${memberCid}.`),
  rateLimitHeaders: (seconds, now) => ({
    'X-Ratelimit-Retryafter': String(Math.ceil(now / 1000 + seconds)),
    'X-Ratelimit-Remaining': '0',
  }),
  unauthorized: () => csError(401, 'access denied, invalid bearer token'),
};
