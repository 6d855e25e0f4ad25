// OneLogin API v2: JSON POST /auth/oauth2/v2/token with Basic client authentication, JSON revoke.
// The endpoint hands out the same token until it expires or is revoked, so a rotation revokes the
// token it replaces first.
import { ConfigError, asTokenError } from '../errors';
import { basicCredential, secretForms } from '../transport/redact';
import { checkOptions } from '../utils/options-check';
import type { AccessToken, ProviderContext, TokenProvider } from '../types';
import { credential, optionalUrl, pick, requestRevoke, requestToken, type EndpointDialect } from './shared';

export interface OneLoginOptions {
  clientId: string;
  clientSecret: string;
  /** `acme` for `https://acme.onelogin.com`. */
  subdomain?: string;
  /** The API host, instead of `subdomain` (legacy `https://api.us.onelogin.com`, a simulator). */
  baseUrl?: string;
}

const dialect = (what: string): EndpointDialect => ({
  what: `onelogin ${what}`,
  message: (body) => pick(body, 'status', 'message') ?? pick(body, 'message'),
  badCredentials: (status) => status === 401,
});
const TOKEN = dialect('token endpoint');
const TOKEN_BODY = JSON.stringify({ grant_type: 'client_credentials' });
const REVOKE = dialect('revoke endpoint');

const OPTIONS = ['clientId', 'clientSecret', 'subdomain', 'baseUrl'] as const;

export function onelogin(options: OneLoginOptions): TokenProvider {
  const who = 'onelogin()';
  checkOptions(options, OPTIONS, who);
  const clientId = credential(options?.clientId, 'clientId', who);
  const clientSecret = credential(options?.clientSecret, 'clientSecret', who);
  const baseUrl = optionalUrl(options.baseUrl, 'baseUrl', who) ?? subdomainUrl(options.subdomain, who);
  const basic = basicCredential(clientId, clientSecret);
  const secrets = secretForms(clientSecret, clientId);
  const headers = { 'Content-Type': 'application/json', Authorization: `Basic ${basic}` };

  return {
    name: 'onelogin',
    baseUrl,
    identity: JSON.stringify(['onelogin', baseUrl, clientId]),
    storeSecret: () => clientSecret,

    async fetchToken(context, { previous } = {}) {
      // The endpoint hands back the same token until it is revoked: revoke the one we replace
      // first. It is served until the revoke returns; a request the API refuses in between is
      // replayed with the new token, so a rotation stalls requests for one token call at most.
      if (previous !== undefined) {
        try {
          await revoke(previous.token, context);
        } catch (error) {
          // Still valid and still served: keep it, and let the retry policy try the rotation again.
          // Refused by the API already: a transient failure is tried again (the endpoint would hand
          // it back until it is revoked); a refusal means the server no longer knows it.
          if (previous.live || asTokenError(error).retryable) throw error;
        }
        previous.retire();
      }
      const call = { url: `${baseUrl}/auth/oauth2/v2/token`, headers, body: TOKEN_BODY, secrets };
      return (await requestToken(context, call, TOKEN)).token;
    },

    revokeToken: (token, context) => revoke(token, context),
  };

  function revoke(token: AccessToken, context: ProviderContext): Promise<void> {
    const body = JSON.stringify({ access_token: token.accessToken });
    return requestRevoke(context, { url: `${baseUrl}/auth/oauth2/revoke`, headers, body, secrets }, token, REVOKE);
  }
}

function subdomainUrl(subdomain: unknown, who: string): string {
  if (typeof subdomain === 'string' && /^[a-z0-9][a-z0-9-]*$/i.test(subdomain)) return `https://${subdomain.toLowerCase()}.onelogin.com`;
  throw new ConfigError('subdomain', `${who}: give subdomain (e.g. 'acme' for acme.onelogin.com) or baseUrl`);
}
