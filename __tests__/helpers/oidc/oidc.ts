// Starts server.mjs (oidc-provider and an introspecting API) in a child process, with keys and
// certificates made for this run: a test CA, a server certificate for 127.0.0.1, a client
// certificate the CA signed and a self-signed one, and one client per authentication method.
import { spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certificates, type Certificates } from '../certs';
import { AUTH_METHODS } from '../../../src/auth/client-auth';
import { cleanup } from '../setup';

export type { Certificates, Pem } from '../certs';

/** RFC 6749 §2.3.1 is needed to send this one over Basic: '+', '%', ':' and a space. */
export const TRICKY_SECRET = 'q+Zr/9Kx=7:p%A b';
export const JWT_SECRET = 'client-secret-jwt-0123456789-abcdefghijklmnopqrstuvwxyz';

export interface Keys {
  rsa: KeyObject;
  ec: KeyObject;
  ed25519: KeyObject;
  /** A key no client registered. */
  stranger: KeyObject;
}

export interface TokenCallSeen {
  client: string | null;
  status: number;
  error: string | null;
  dpop: boolean;
  tls: boolean;
}

export interface OidcStats {
  token: TokenCallSeen[];
  revocation: { client: string | null; status: number; tls: boolean }[];
  introspection: number;
  api: { path: string; status: number; error: string | null; scheme: string | null; tls: boolean }[];
  /** Access tokens the server holds now. */
  tokens: number;
}

export interface Knobs {
  /** The token endpoint asks for DPoP nonces. */
  tokenNonce?: boolean;
  /** The API asks for DPoP nonces. */
  apiNonce?: boolean;
  /** Pick a new API nonce (the old one is then refused). */
  rotateApiNonce?: boolean;
  /** Token responses without expires_in (a JWT's exp is all there is). */
  omitExpiresIn?: boolean;
  /** Token responses with Entra's refresh_in (seconds). */
  refreshIn?: number;
  /** Token responses say Bearer whatever was asked (a server that ignores DPoP). */
  ignoreDpop?: boolean;
  /** The API sends a new nonce with every answer. */
  apiNonceEvery?: boolean;
  /** Where the API's /redirect sends the client. */
  redirectTo?: string;
  /** Access token lifetime, seconds. Default 300. */
  ttl?: number;
}

/** What every test starts from. */
export const DEFAULT_KNOBS: Knobs = {
  tokenNonce: false,
  apiNonce: false,
  omitExpiresIn: false,
  refreshIn: undefined,
  ignoreDpop: false,
  apiNonceEvery: false,
  redirectTo: undefined,
  ttl: 300,
};

export interface Oidc {
  issuer: string;
  /** The mTLS endpoint aliases' origin. */
  mtls: string;
  api: string;
  apiTls: string;
  keys: Keys;
  certs: Certificates;
  stats(): Promise<OidcStats>;
  /** The server forgets every access token: the API answers 401 to all of them. */
  revokeAll(): Promise<void>;
  knobs(knobs: Knobs): Promise<void>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

const publicJwk = (key: KeyObject) => ({
  ...key.export({ format: 'jwk' }),
  d: undefined,
  p: undefined,
  q: undefined,
  dp: undefined,
  dq: undefined,
  qi: undefined,
});

function clients(keys: Keys, certs: Certificates): object[] {
  const base = { grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'api:read api:write' };
  const jwks = (key: KeyObject) => ({ keys: [JSON.parse(JSON.stringify(publicJwk(key)))] });
  const selfSigned = new X509Certificate(certs.selfSigned.cert);
  return [
    { ...base, client_id: 'basic', client_secret: TRICKY_SECRET, token_endpoint_auth_method: 'client_secret_basic' },
    { ...base, client_id: 'post', client_secret: 'post-secret', token_endpoint_auth_method: 'client_secret_post' },
    { ...base, client_id: 'jwt', client_secret: JWT_SECRET, token_endpoint_auth_method: 'client_secret_jwt' },
    { ...base, client_id: 'pkjwt-rs256', jwks: jwks(keys.rsa), token_endpoint_auth_method: 'private_key_jwt' },
    { ...base, client_id: 'pkjwt-ps256', jwks: jwks(keys.rsa), token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'PS256' },
    { ...base, client_id: 'pkjwt-es256', jwks: jwks(keys.ec), token_endpoint_auth_method: 'private_key_jwt' },
    { ...base, client_id: 'pkjwt-cert', jwks: jwks(createPrivateKey(certs.client.key)), token_endpoint_auth_method: 'private_key_jwt' },
    { ...base, client_id: 'pkjwt-eddsa', jwks: jwks(keys.ed25519), token_endpoint_auth_method: 'private_key_jwt' },
    {
      ...base,
      client_id: 'tls',
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_subject_dn: 'CN=tls-client',
      tls_client_certificate_bound_access_tokens: true,
    },
    {
      ...base,
      client_id: 'selfsigned',
      token_endpoint_auth_method: 'self_signed_tls_client_auth',
      jwks: { keys: [{ ...JSON.parse(JSON.stringify(publicJwk(selfSigned.publicKey))), x5c: [selfSigned.raw.toString('base64')] }] },
      tls_client_certificate_bound_access_tokens: true,
    },
    { ...base, client_id: 'dpop', client_secret: 'dpop-secret', token_endpoint_auth_method: 'client_secret_basic', dpop_bound_access_tokens: true },
    { ...base, client_id: 'narrow', client_secret: 'narrow-secret', token_endpoint_auth_method: 'client_secret_basic', scope: 'api:read' },
    { ...base, client_id: 'api', client_secret: 'api-secret', token_endpoint_auth_method: 'client_secret_basic' },
    {
      ...base,
      client_id: 'code-only',
      client_secret: 'code-secret',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: ['https://rp.test/cb'],
    },
  ];
}

export async function startOidc(): Promise<Oidc> {
  const dir = mkdtempSync(join(tmpdir(), 'tokenwarden-oidc-'));
  const certs = certificates(dir);
  const keys: Keys = {
    rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
    ec: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
    ed25519: generateKeyPairSync('ed25519').privateKey,
    stranger: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
  };
  const configPath = join(dir, 'config.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      clients: clients(keys, certs),
      clientAuthMethods: [...AUTH_METHODS, 'none'],
      knobs: DEFAULT_KNOBS,
      tls: { serverKey: certs.server.key, serverCert: certs.server.cert, ca: certs.ca },
    }),
  );
  const child: ChildProcess = spawn(process.execPath, ['--no-warnings', join(__dirname, 'server.mjs'), configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let errors = '';
  child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const urls = await new Promise<{ issuer: string; mtls: string; api: string; apiTls: string; admin: string }>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!));
    });
    child.once('exit', (code) => reject(new Error(`oidc server exited (${code}): ${errors}`)));
  });
  const admin = async (path: string, body?: object): Promise<unknown> => {
    const response = await fetch(`${urls.admin}${path}`, { method: 'POST', body: JSON.stringify(body ?? {}) });
    return response.json();
  };
  return {
    ...urls,
    keys,
    certs,
    stats: () => admin('/stats') as Promise<OidcStats>,
    revokeAll: async () => void (await admin('/revoke-all')),
    knobs: async (knobs) => void (await admin('/knobs', knobs)),
    reset: async () => void (await admin('/reset')),
    close: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
      if (/server_error/.test(errors)) throw new Error(`oidc-provider reported: ${errors}`);
    },
  };
}

/** One server for a test file: what it saw is forgotten and its knobs reset around each test. */
export function useOidc(started: (oidc: Oidc) => void): void {
  let oidc: Oidc;
  beforeAll(async () => {
    oidc = await startOidc();
    started(oidc);
  });
  afterAll(() => oidc.close());
  beforeEach(() => oidc.reset());
  afterEach(async () => {
    await cleanup();
    await oidc.knobs(DEFAULT_KNOBS);
  });
}
