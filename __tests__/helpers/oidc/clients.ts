// The clients that oidc.ts registers, as clientCredentials() options, and managers for them that
// the tests' cleanup disposes.
import axios, { type AxiosInstance } from 'axios';
import { clientCredentials, TokenManager, type ClientCredentialsOptions, type TokenManagerOptions, type TokenProvider } from '../../../src';
import { record, track, type Recorded } from '../setup';
import { JWT_SECRET, TRICKY_SECRET, type Oidc } from './oidc';

export type ClientName = 'basic' | 'post' | 'jwt' | 'pkjwt-rs256' | 'pkjwt-ps256' | 'pkjwt-es256' | 'pkjwt-eddsa' | 'tls' | 'selfsigned' | 'dpop';

/** Options for one of the registered clients: over the mTLS aliases (and to the TLS API) where it uses a certificate. */
export function optionsFor(oidc: Oidc, client: ClientName, extra: Partial<ClientCredentialsOptions> = {}): ClientCredentialsOptions {
  const viaTls = client === 'tls' || client === 'selfsigned';
  const origin = viaTls ? oidc.mtls : oidc.issuer;
  const common = {
    tokenUrl: `${origin}/token`,
    revocationUrl: `${origin}/token/revocation`,
    clientId: client,
    scope: 'api:read',
    baseUrl: viaTls ? oidc.apiTls : oidc.api,
  };
  const auth: Partial<ClientCredentialsOptions> = {
    basic: { clientSecret: TRICKY_SECRET },
    post: { clientSecret: 'post-secret', authMethod: 'client_secret_post' as const },
    jwt: { clientSecret: JWT_SECRET, authMethod: 'client_secret_jwt' as const },
    'pkjwt-rs256': { privateKey: oidc.keys.rsa },
    'pkjwt-ps256': { privateKey: oidc.keys.rsa.export({ format: 'pem', type: 'pkcs8' }).toString(), algorithm: 'PS256' as const },
    'pkjwt-es256': { privateKey: oidc.keys.ec.export({ format: 'jwk' }) },
    'pkjwt-eddsa': { privateKey: oidc.keys.ed25519 },
    tls: { authMethod: 'tls_client_auth' as const, tls: { ...oidc.certs.client, ca: oidc.certs.ca } },
    selfsigned: { authMethod: 'self_signed_tls_client_auth' as const, tls: { ...oidc.certs.selfSigned, ca: oidc.certs.ca } },
    dpop: { clientSecret: 'dpop-secret', dpop: true as const },
  }[client];
  return { ...common, ...auth, ...extra };
}

export interface Client {
  provider: TokenProvider;
  tokens: TokenManager;
  api: AxiosInstance;
  events: Recorded;
}

export function managerFor(options: ClientCredentialsOptions, manager: Partial<TokenManagerOptions> = {}): Client {
  const provider = clientCredentials(options);
  const tokens = new TokenManager({ provider, retry: { retries: 2, minTimeout: 20, maxTimeout: 50 }, ...manager });
  const api = axios.create();
  tokens.attach(api);
  track(() => tokens.dispose({ revoke: false }));
  return { provider, tokens, api, events: record(tokens) };
}

/** A manager for a simulator's OAuth 2.0 client, with `options` (an auth method, DPoP...). */
export function managerOf(sim: { tokenUrl: string; revokeUrl: string; url: string; clientId: string }, options: Partial<ClientCredentialsOptions>): Client {
  return managerFor({ tokenUrl: sim.tokenUrl, revocationUrl: sim.revokeUrl, baseUrl: sim.url, clientId: sim.clientId, ...options });
}

/** The payload of a JWT, unverified (the tests read what the server put there). */
export function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
}
