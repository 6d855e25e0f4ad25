// Authorization server metadata (RFC 8414, OpenID Connect Discovery), read once: the token and
// revocation endpoints (their mTLS aliases where the client uses a certificate) and which client
// authentication methods the server takes.
import axios from 'axios';
import type { Agent } from 'node:https';
import { readTls } from '../auth/tls';
import { ConfigError, TokenError } from '../errors';
import { MAX_RESPONSE_BYTES } from '../transport/http';
import type { TokenProvider } from '../types';
import type { AuthMethod } from '../auth/client-auth';
import { clientCredentials, type ClientCredentialsOptions } from './client-credentials';
import { httpUrl } from './shared';

export type IssuerOptions = Omit<ClientCredentialsOptions, 'tokenUrl' | 'revocationUrl'> & {
  /** How long to wait for the metadata, in ms. Default 10 000. */
  timeoutMs?: number;
};

interface Metadata {
  issuer?: unknown;
  token_endpoint?: unknown;
  revocation_endpoint?: unknown;
  token_endpoint_auth_methods_supported?: unknown;
  mtls_endpoint_aliases?: { token_endpoint?: unknown; revocation_endpoint?: unknown } | null;
}

/**
 * A `clientCredentials()` provider for the server at `issuer`, from its metadata. Throws a
 * ConfigError when the server does not take `authMethod`, a TokenError when it cannot be read.
 */
export async function fromIssuer(issuer: string, options: IssuerOptions): Promise<TokenProvider> {
  const who = 'clientCredentials.fromIssuer()';
  const base = httpUrl(issuer, 'issuer', who);
  const { timeoutMs = 10_000, ...rest } = options ?? ({} as IssuerOptions);
  const agent = rest.tls === undefined ? undefined : readTls(rest.tls, who).agent;
  const metadata = await read(base, timeoutMs, who, agent).finally(() => agent?.destroy());
  if (typeof metadata.issuer !== 'string' || metadata.issuer.replace(/\/+$/, '') !== base) {
    throw new TokenError('invalid_response', `${who}: the metadata at ${base} names another issuer (RFC 8414 §3.3 says they must be the same)`);
  }
  const authMethod: AuthMethod = rest.authMethod ?? (rest.privateKey !== undefined ? 'private_key_jwt' : 'client_secret_basic');
  const supported = Array.isArray(metadata.token_endpoint_auth_methods_supported) ? (metadata.token_endpoint_auth_methods_supported as unknown[]) : undefined;
  if (supported !== undefined && !supported.includes(authMethod)) {
    const known = supported.filter((method): method is string => typeof method === 'string' && /^[\w-]{1,64}$/.test(method));
    throw new ConfigError('authMethod', `${who}: ${base} does not take ${authMethod}; it takes ${known.join(', ') || 'no method we know'}`);
  }
  // A client certificate goes to the mTLS aliases, where the server asks for it.
  const mtls = authMethod.includes('tls_client_auth') || rest.tls?.cert !== undefined;
  const aliases = mtls ? metadata.mtls_endpoint_aliases : undefined;
  const field = (name: string, value: unknown) => endpoint(value, name, base, who);
  const tokenUrl = field('mtls_endpoint_aliases.token_endpoint', aliases?.token_endpoint) ?? field('token_endpoint', metadata.token_endpoint);
  if (tokenUrl === undefined) throw new TokenError('invalid_response', `${who}: the metadata at ${base} has no token_endpoint`);
  const revocationUrl =
    field('mtls_endpoint_aliases.revocation_endpoint', aliases?.revocation_endpoint) ?? field('revocation_endpoint', metadata.revocation_endpoint);
  return clientCredentials({
    ...rest,
    authMethod,
    tokenUrl,
    ...(revocationUrl !== undefined && { revocationUrl }),
  });
}

/** RFC 8414's location first (the issuer's path after the well-known part), then OpenID Connect's. */
async function read(issuer: string, timeoutMs: number, who: string, httpsAgent: Agent | undefined): Promise<Metadata> {
  const { origin, pathname } = new URL(issuer);
  const path = pathname === '/' ? '' : pathname;
  const locations = [`${origin}/.well-known/oauth-authorization-server${path}`, `${issuer}/.well-known/openid-configuration`];
  let last = 'no answer';
  for (const url of locations) {
    try {
      const response = await axios.get<unknown>(url, {
        timeout: timeoutMs,
        maxRedirects: 0,
        maxContentLength: MAX_RESPONSE_BYTES,
        responseType: 'json',
        validateStatus: () => true,
        ...(httpsAgent && { httpsAgent }),
      });
      if (response.status === 200 && response.data !== null && typeof response.data === 'object') return response.data;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = (error as { code?: string }).code ?? 'a network error';
    }
  }
  throw new TokenError('network_error', `${who}: could not read the metadata of ${issuer} (${last})`);
}

/**
 * An endpoint the metadata names: credentials will go there, so https (the issuer's own TLS is
 * what vouches for it; other hosts are allowed, as Google's and mTLS aliases are), or http only on
 * loopback for an http issuer on loopback (a test server).
 */
function endpoint(value: unknown, field: string, issuer: string, who: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  const loopback = (u: URL) => ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
  const secure = url?.protocol === 'https:' || (url?.protocol === 'http:' && loopback(url) && loopback(new URL(issuer)));
  if (url === undefined || !secure || url.username || url.password) {
    throw new TokenError(
      'invalid_response',
      `${who}: the metadata at ${issuer} has a ${field} that is not an https URL without credentials: refused, as credentials would go there`,
    );
  }
  return (value as string).replace(/\/+$/, '');
}
