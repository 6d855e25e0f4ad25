// Any RFC 6749 §4.4 server: form POST with grant_type=client_credentials; client authentication by
// secret (Basic or body), client assertion (RFC 7523) or TLS certificate (RFC 8705); resource
// indicators (RFC 8707); DPoP-bound tokens (RFC 9449); RFC 7009 revocation when a URL is given.
import { X509Certificate } from 'node:crypto';
import { AUTH_METHODS, clientAuth, type AuthMethod } from '../auth/client-auth';
import { dpop as dpopKey, type DpopOptions } from '../auth/dpop';
import type { SigningAlgorithm } from '../auth/keys';
import type { TlsOptions } from '../auth/tls';
import { ConfigError, isTokenError } from '../errors';
import type { AccessToken, ProviderContext, SenderBinding, TokenProvider } from '../types';
import { originOf } from '../utils/origin';
import { checkOptions } from '../utils/options-check';
import { fromIssuer, type IssuerOptions } from './discovery';
import { credential, form, httpUrl, optionalString, optionalUrl, pick, requestRevoke, requestToken, scopeOf, type EndpointDialect } from './shared';

export interface ClientCredentialsOptions {
  tokenUrl: string;
  clientId: string;
  /** For the `client_secret_*` methods. */
  clientSecret?: string;
  /** Default `'private_key_jwt'` with a `privateKey`, else `'client_secret_basic'`. */
  authMethod?: AuthMethod;
  /** `private_key_jwt`: a PEM string, a JWK object or a KeyObject. */
  privateKey?: unknown;
  /** The `kid` header of client assertions. */
  keyId?: string;
  /** private_key_jwt: the key's certificate (PEM); its thumbprints go in the assertion header as `x5t` and `x5t#S256` (Entra ID). */
  certificate?: string | Buffer;
  /** The assertions' algorithm. Default from the key (RS256, PS256 for RSA-PSS, ES256/384/512, EdDSA); HS256 for `client_secret_jwt`. */
  algorithm?: SigningAlgorithm | 'HS256' | 'HS384' | 'HS512';
  /** mTLS (RFC 8705): the client certificate and key (also sent to the API for certificate-bound tokens), and CAs to trust. */
  tls?: TlsOptions;
  /** DPoP (RFC 9449): `true` for a new ES256 key per manager, or a key of your own (shared by replicas that share tokens). */
  dpop?: true | DpopOptions;
  /** RFC 8707 resource indicators: the API (or APIs) the token is for. */
  resource?: string | readonly string[];
  /** Any extra token request parameter. */
  tokenParams?: Readonly<Record<string, string>>;
  /** How `client_secret_basic` encodes id and secret: `'form'` (RFC 6749 §2.3.1, default) or `'raw'` for servers that do not decode. */
  basicEncoding?: 'form' | 'raw';
  /** Space-separated, or an array of scopes (joined with spaces). */
  scope?: string | readonly string[];
  /** Sent as `audience` (Auth0 and others). */
  audience?: string;
  /** RFC 7009 endpoint; without it tokens are not revoked on dispose. */
  revocationUrl?: string;
  /** Base URL of the API the token is for: relative request URLs go there. */
  baseUrl?: string;
  /** The `aud` of client assertions. Default: the token endpoint URL (some servers want their issuer here). */
  assertionAudience?: string;
}

const OPTIONS = [
  'tokenUrl', 'clientId', 'clientSecret', 'authMethod', 'privateKey', 'keyId', 'certificate', 'algorithm', 'tls', 'dpop', 'resource', 'tokenParams',
  'basicEncoding', 'scope', 'audience', 'revocationUrl', 'baseUrl', 'assertionAudience',
] as const; // prettier-ignore
/** Token request parameters that options set: `tokenParams` may not set them behind their back. */
const RESERVED = new Set(['grant_type', 'client_id', 'client_secret', 'client_assertion', 'client_assertion_type', 'scope', 'audience', 'resource']);
const REJECTED_CLIENT = new Set(['invalid_client']);
const FORM = 'application/x-www-form-urlencoded';

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

export function clientCredentials(options: ClientCredentialsOptions): TokenProvider {
  const who = 'clientCredentials()';
  checkOptions(options, OPTIONS, who);
  const tokenUrl = httpUrl(options?.tokenUrl, 'tokenUrl', who);
  const clientId = credential(options.clientId, 'clientId', who);
  const clientSecret = optionalString(options.clientSecret, 'clientSecret', who);
  const scope = scopeOf(options.scope, who);
  const audience = optionalString(options.audience, 'audience', who);
  const revocationUrl = optionalUrl(options.revocationUrl, 'revocationUrl', who);
  const baseUrl = optionalUrl(options.baseUrl, 'baseUrl', who);
  const resource = resourcesOf(options.resource, who);
  const tokenParams = tokenParamsOf(options.tokenParams, who);
  const authMethod = options.authMethod ?? (options.privateKey !== undefined ? 'private_key_jwt' : 'client_secret_basic');
  if (!AUTH_METHODS.includes(authMethod)) throw new ConfigError('authMethod', `${who}: authMethod must be one of ${AUTH_METHODS.join(', ')}`);
  const basicEncoding = options.basicEncoding ?? 'form';
  if (basicEncoding !== 'form' && basicEncoding !== 'raw')
    throw new ConfigError('basicEncoding', `${who}: basicEncoding must be 'form' (RFC 6749 §2.3.1) or 'raw'`);
  const auth = clientAuth(
    { clientId, clientSecret, authMethod, privateKey: options.privateKey, keyId: optionalString(options.keyId, 'keyId', who), certificate: options.certificate, algorithm: options.algorithm, tls: options.tls, basicEncoding, audience: assertionAudience(options.assertionAudience, tokenUrl, who) },
    who,
  ); // prettier-ignore
  const dpop = options.dpop === undefined || (options.dpop as unknown) === false ? undefined : dpopKey(options.dpop, who);
  const certificate = options.tls?.cert === undefined ? undefined : new X509Certificate(options.tls.cert).fingerprint256;
  const secrets = auth.secrets;
  const tokenOrigin = originOf(tokenUrl) ?? tokenUrl;

  const tokenCall = async (context: ProviderContext): Promise<AccessToken> => {
    const { headers, fields } = await auth.authenticate();
    const body = form({ grant_type: 'client_credentials', scope, audience, resource, ...tokenParams, ...fields });
    const proof = dpop && { DPoP: dpop.proof('POST', withoutQuery(tokenUrl)) };
    const call = {
      url: tokenUrl,
      headers: { 'Content-Type': FORM, ...headers, ...proof },
      body,
      // A server that echoes the request must not put this call's assertion or proof in a message.
      secrets: [...secrets, ...[fields['client_assertion'], proof?.DPoP].filter((value): value is string => value !== undefined)],
      httpsAgent: auth.agent,
      ...(dpop && { tokenType: 'DPoP' as const }),
    };
    const learn = dpop && ((response: { headers: Readonly<Record<string, string | undefined>> }) => dpop.learn(tokenOrigin, response.headers['dpop-nonce']));
    return (await requestToken(context, call, TOKEN, learn)).token;
  };

  const provider: TokenProvider = {
    name: 'oauth2',
    baseUrl,
    // A token bound to a DPoP key or a certificate is only of use to holders of that key: it is
    // part of the identity (an ephemeral DPoP key makes it this manager's alone).
    identity: JSON.stringify([
      'oauth2',
      tokenUrl,
      clientId,
      scope ?? null,
      audience ?? null,
      resource ?? null,
      tokenParams ?? null,
      dpop?.thumbprint ?? null,
      certificate ?? null,
    ]),
    storeSecret: () => auth.storeSecret,

    async fetchToken(context) {
      const known = dpop?.nonce(tokenOrigin);
      try {
        return await tokenCall(context);
      } catch (error) {
        // RFC 9449 §8: the server wants a nonce it has just sent: one more call, with it.
        const fresh = dpop?.nonce(tokenOrigin);
        if (isTokenError(error) && error.oauthError === 'use_dpop_nonce' && fresh !== undefined && fresh !== known) return tokenCall(context);
        throw error;
      }
    },
    ...(binding(dpop, auth.agent !== undefined && certificate !== undefined ? auth.agent : undefined) ?? {}),
  };
  if (revocationUrl === undefined) return provider;
  return {
    ...provider,
    async revokeToken(token, context) {
      const { headers, fields } = await auth.authenticate();
      const body = form({ token: token.accessToken, token_type_hint: 'access_token', ...fields });
      return requestRevoke(
        context,
        {
          url: revocationUrl,
          headers: { 'Content-Type': FORM, ...headers },
          body,
          secrets: fields['client_assertion'] === undefined ? secrets : [...secrets, fields['client_assertion']],
          httpsAgent: auth.agent,
        },
        token,
        REVOKE,
      );
    },
  };
}

/** How the provider's tokens travel: a DPoP proof per request, the client certificate, or nothing special. */
function binding(dpop: ReturnType<typeof dpopKey> | undefined, certificateAgent: unknown): { binding: SenderBinding } | undefined {
  if (dpop === undefined && certificateAgent === undefined) return undefined;
  return {
    binding: {
      forRequest: (method, url, token) => ({
        ...(dpop && { headers: { DPoP: dpop.proof(method, withoutQuery(url), token.accessToken) } }),
        ...(certificateAgent !== undefined && { httpsAgent: certificateAgent }),
      }),
      answered(url, status, header) {
        if (dpop === undefined) return false;
        // Asked again only with a nonce worth trying: a new one.
        const learnt = dpop.learn(originOf(url) ?? url, header('dpop-nonce'));
        return status === 401 && learnt && /error="?use_dpop_nonce/.test(header('www-authenticate') ?? '');
      },
    },
  };
}

/** RFC 9449 `htu`: the URL without query and fragment. */
function withoutQuery(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

/** `aud` as given (a trailing slash may matter to the server), once checked to be an http(s) URL. */
function assertionAudience(value: unknown, tokenUrl: string, who: string): string {
  if (value === undefined) return tokenUrl;
  optionalUrl(value, 'assertionAudience', who);
  return value as string;
}

function resourcesOf(value: unknown, who: string): string | readonly string[] | undefined {
  if (value === undefined) return undefined;
  const list = Array.isArray(value) ? (value as unknown[]) : [value];
  if (list.length === 0) throw new ConfigError('resource', `${who}: resource is an empty array; leave it out`);
  const urls = list.map((item) => {
    // RFC 8707 §2: an absolute URI without a fragment.
    if (typeof item !== 'string' || !/^[a-z][a-z\d+.-]*:/i.test(item) || item.includes('#')) {
      throw new ConfigError(
        'resource',
        `${who}: each resource must be an absolute URI without a fragment (got ${typeof item === 'string' ? `a ${item.length}-character string` : typeof item})`,
      );
    }
    return item;
  });
  return urls.length === 1 ? urls[0] : urls;
}

function tokenParamsOf(value: unknown, who: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new ConfigError('tokenParams', `${who}: tokenParams must be an object of strings`);
  const params = Object.entries(value as Record<string, unknown>);
  for (const [name, param] of params) {
    if (RESERVED.has(name)) throw new ConfigError('tokenParams', `${who}: tokenParams may not set ${name}: use the option for it (or the authMethod)`);
    if (typeof param !== 'string') throw new ConfigError('tokenParams', `${who}: tokenParams.${name.slice(0, 40)} must be a string`);
  }
  return Object.fromEntries(params.sort(([a], [b]) => (a < b ? -1 : 1))) as Record<string, string>;
}

// Reading the server's metadata instead of naming its endpoints: `clientCredentials.fromIssuer(issuer, options)`.
clientCredentials.fromIssuer = (issuer: string, options: IssuerOptions): Promise<TokenProvider> => fromIssuer(issuer, options);
