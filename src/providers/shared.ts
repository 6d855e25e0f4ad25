// What every provider does the same way: validate options, call the endpoint, turn the answer
// into a token or a TokenError. A provider only describes its dialect.
import { ConfigError } from '../errors';
import { failure, parseJson, post, type RawResponse, type TokenCall } from '../transport/http';
import { rateLimitOf } from '../transport/retry-after';
import { parseTokenResponse } from '../transport/token-response';
import type { AccessToken, ProviderContext } from '../types';

export interface EndpointDialect {
  /** e.g. `'crowdstrike token endpoint'`. */
  readonly what: string;
  /** The server's own error message from its error envelope. */
  message(body: unknown): string | undefined;
  /** Whether this failure means the client id or secret is wrong. */
  badCredentials(status: number, body: unknown, message: string | undefined): boolean;
  /** The RFC 6749 §5.2 `error` code, for servers that speak OAuth 2.0. */
  oauthError?(body: unknown): string | undefined;
}

export async function requestToken(
  context: ProviderContext,
  call: TokenCall,
  dialect: EndpointDialect,
  /** Sees every answer, success or not (a DPoP nonce rides on either). */
  seen?: (response: RawResponse) => void,
): Promise<{ token: AccessToken; response: RawResponse }> {
  const response = await post(context, call);
  seen?.(response);
  // Only a success speaks for the token endpoint (a gateway's error page may carry other limits);
  // a refusal's own retry hint says how long to wait.
  const limits = response.status < 300 ? rateLimitOf(response.headers) : undefined;
  if (limits) context.rateLimit?.(limits.limit, limits.remaining);
  if (response.status >= 200 && response.status < 300) {
    return {
      token: parseTokenResponse(response, dialect.what, context.defaultLifetimeMs, {
        secrets: call.secrets,
        ...(call.tokenType && { tokenType: call.tokenType }),
      }),
      response,
    };
  }
  throw failureOf(response, call, dialect, context);
}

/** Revoke `token`: it joins the secrets no error may show. */
export async function requestRevoke(context: ProviderContext, call: TokenCall, token: AccessToken, dialect: EndpointDialect): Promise<void> {
  const revoking = { ...call, secrets: [...call.secrets, token.accessToken] };
  const response = await post(context, revoking);
  if (response.status >= 200 && response.status < 300) return;
  throw failureOf(response, revoking, dialect, context);
}

function failureOf(response: RawResponse, call: TokenCall, dialect: EndpointDialect, context: ProviderContext) {
  const body = parseJson(response.body);
  const providerMessage = dialect.message(body);
  const badCredentials = dialect.badCredentials(response.status, body, providerMessage);
  const oauthError = dialect.oauthError?.(body);
  return failure(response, { what: dialect.what, providerMessage, badCredentials, oauthError, secrets: call.secrets }, context.clock.now());
}

/** `value` at `path` in a parsed body when it is a string, e.g. `pick(body, 'errors', 0, 'message')`. */
export function pick(body: unknown, ...path: (string | number)[]): string | undefined {
  let node = body;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return typeof node === 'string' ? node : undefined;
}

/** A form body; a field given as an array is repeated (RFC 8707 `resource`). */
export function form(fields: Record<string, string | readonly string[] | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value === 'string') params.append(name, value);
    else if (value !== undefined) for (const item of value) params.append(name, item);
  }
  return params.toString();
}

/** A credential string: present, and without the stray whitespace a copy from an .env file brings. */
export function credential(value: unknown, option: string, provider: string): string {
  if (value === undefined || value === '') {
    throw new ConfigError(option, `${provider}: ${option} is required (got ${value === '' ? 'an empty string' : 'undefined'})`);
  }
  if (typeof value !== 'string') {
    throw new ConfigError(
      option,
      `${provider}: ${option} must be a string (got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value})`,
    );
  }
  if (value.trim() !== value) throw new ConfigError(option, `${provider}: ${option} has leading or trailing whitespace; remove it`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new ConfigError(option, `${provider}: ${option} contains control characters`);
  return value;
}

export function optionalString(value: unknown, option: string, provider: string): string | undefined {
  return value === undefined ? undefined : credential(value, option, provider);
}

/** `scope` as a space-separated string: given as one, or as an array of scopes. */
export function scopeOf(value: unknown, provider: string): string | undefined {
  if (!Array.isArray(value)) return optionalString(value, 'scope', provider);
  const scopes = value.map((item, i) => {
    if (typeof item !== 'string' || item.length === 0 || /\s/.test(item)) {
      throw new ConfigError(
        'scope',
        `${provider}: scope[${i}] must be one scope, a non-empty string without spaces (got ${typeof item === 'string' ? `a ${item.length}-character string` : typeof item})`,
      );
    }
    return item;
  });
  if (scopes.length === 0) throw new ConfigError('scope', `${provider}: scope is an empty array; leave it out to ask for the default scope`);
  return scopes.join(' ');
}

/** An http(s) URL without a trailing slash. */
export function httpUrl(value: unknown, option: string, provider: string): string {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    // Not quoted: a mistyped URL may still carry credentials (`htps://id:secret@host`).
    const got =
      typeof value !== 'string'
        ? typeof value
        : url
          ? `a URL with the scheme ${JSON.stringify(url.protocol.slice(0, 20))}`
          : `a ${value.length}-character string that is not a URL`;
    throw new ConfigError(option, `${provider}: ${option} must be an http(s) URL, got ${got}`);
  }
  if (url.username || url.password) throw new ConfigError(option, `${provider}: ${option} must not contain credentials`);
  return String(value).replace(/\/+$/, '');
}

export function optionalUrl(value: unknown, option: string, provider: string): string | undefined {
  return value === undefined ? undefined : httpUrl(value, option, provider);
}
