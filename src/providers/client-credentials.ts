// Any RFC 6749 §4.4 server: form POST with grant_type=client_credentials, client authentication by
// HTTP Basic (the RFC's preference) or body fields, RFC 7009 revocation when a URL is given.
import { ConfigError } from '../errors';
import { basicCredential, secretForms } from '../transport/redact';
import { checkOptions } from '../utils/options-check';
import type { TokenProvider } from '../types';
import { credential, form, httpUrl, optionalString, optionalUrl, pick, requestRevoke, requestToken, scopeOf, type EndpointDialect } from './shared';

export interface ClientCredentialsOptions {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Space-separated, or an array of scopes (joined with spaces). */
  scope?: string | readonly string[];
  /** Sent as `audience` (Auth0 and others). */
  audience?: string;
  /** Default `'client_secret_basic'`. */
  authMethod?: 'client_secret_basic' | 'client_secret_post';
  /** RFC 7009 endpoint; without it tokens are not revoked on dispose. */
  revocationUrl?: string;
  /** Base URL of the API the token is for: relative request URLs go there. */
  baseUrl?: string;
}

const REJECTED_CLIENT = new Set(['invalid_client']);

const dialect = (what: string): EndpointDialect => ({
  what: `oauth2 ${what}`,
  message: (body) => {
    const error = pick(body, 'error');
    const description = pick(body, 'error_description');
    return error && description ? `${error}: ${description}` : (error ?? description);
  },
  badCredentials: (status, body) => status === 401 || REJECTED_CLIENT.has(pick(body, 'error') ?? ''),
  oauthError: (body) => pick(body, 'error'),
});
const TOKEN = dialect('token endpoint');
const REVOKE = dialect('revocation endpoint');

const OPTIONS = ['tokenUrl', 'clientId', 'clientSecret', 'scope', 'audience', 'authMethod', 'revocationUrl', 'baseUrl'] as const;

export function clientCredentials(options: ClientCredentialsOptions): TokenProvider {
  const who = 'clientCredentials()';
  checkOptions(options, OPTIONS, who);
  const tokenUrl = httpUrl(options?.tokenUrl, 'tokenUrl', who);
  const clientId = credential(options.clientId, 'clientId', who);
  const clientSecret = credential(options.clientSecret, 'clientSecret', who);
  const scope = scopeOf(options.scope, who);
  const audience = optionalString(options.audience, 'audience', who);
  const revocationUrl = optionalUrl(options.revocationUrl, 'revocationUrl', who);
  const baseUrl = optionalUrl(options.baseUrl, 'baseUrl', who);
  const authMethod = options.authMethod ?? 'client_secret_basic';
  if (authMethod !== 'client_secret_basic' && authMethod !== 'client_secret_post') {
    throw new ConfigError('authMethod', `${who}: authMethod must be 'client_secret_basic' or 'client_secret_post'`);
  }

  // RFC 6749 §2.3.1: id and secret are form-encoded before they are joined for Basic.
  const basic = basicCredential(encodeURIComponent(clientId), encodeURIComponent(clientSecret));
  const secrets = secretForms(clientSecret, clientId);
  const auth: { headers: Record<string, string>; fields: Record<string, string> } =
    authMethod === 'client_secret_basic'
      ? { headers: { Authorization: `Basic ${basic}` }, fields: {} }
      : { headers: {}, fields: { client_id: clientId, client_secret: clientSecret } };
  const headers = { 'Content-Type': 'application/x-www-form-urlencoded', ...auth.headers };

  const provider: TokenProvider = {
    name: 'oauth2',
    baseUrl,
    identity: JSON.stringify(['oauth2', tokenUrl, clientId, scope ?? null, audience ?? null]),
    storeSecret: () => clientSecret,

    async fetchToken(context) {
      const body = form({ grant_type: 'client_credentials', scope, audience, ...auth.fields });
      return (await requestToken(context, { url: tokenUrl, headers, body, secrets }, TOKEN)).token;
    },
  };
  if (revocationUrl === undefined) return provider;
  return {
    ...provider,
    revokeToken(token, context) {
      const body = form({ token: token.accessToken, token_type_hint: 'access_token', ...auth.fields });
      return requestRevoke(context, { url: revocationUrl, headers, body, secrets }, token, REVOKE);
    },
  };
}
