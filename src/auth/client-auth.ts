// How a client proves who it is at the token and revocation endpoints (RFC 6749 §2.3, RFC 7523,
// RFC 8705): a secret in a Basic header or the body, a signed assertion made fresh for each call, or
// the TLS client certificate. The method is chosen once; each call asks for what it adds.
import { randomUUID, X509Certificate } from 'node:crypto';
import { Agent } from 'node:https';
import { SignJWT } from 'jose';
import { ConfigError } from '../errors';
import { basicCredential, secretForms } from '../transport/redact';
import { signingKey, type SigningKey } from './keys';
import { readTls, type TlsOptions } from './tls';

/** How the client authenticates at the token and revocation endpoints (RFC 6749 §2.3, RFC 7523, RFC 8705). */
export type AuthMethod =
  'client_secret_basic' | 'client_secret_post' | 'client_secret_jwt' | 'private_key_jwt' | 'tls_client_auth' | 'self_signed_tls_client_auth';

export const AUTH_METHODS: readonly AuthMethod[] = [
  'client_secret_basic',
  'client_secret_post',
  'client_secret_jwt',
  'private_key_jwt',
  'tls_client_auth',
  'self_signed_tls_client_auth',
];

/** An assertion lives this long: long enough for a slow network, too short to be worth stealing. */
const ASSERTION_LIFETIME_S = 60;

export interface ClientAuthOptions {
  readonly clientId: string;
  readonly clientSecret: string | undefined;
  readonly authMethod: AuthMethod;
  readonly privateKey: unknown;
  readonly keyId: string | undefined;
  readonly certificate: unknown;
  readonly algorithm: unknown;
  readonly tls: TlsOptions | undefined;
  readonly basicEncoding: 'form' | 'raw';
  /** `aud` of the assertions (the token endpoint, unless the server expects its issuer). */
  readonly audience: string;
}

export interface ClientAuth {
  readonly method: AuthMethod;
  /** Headers and form fields that authenticate one call (an assertion is signed anew for each). */
  authenticate(): Promise<{ headers: Record<string, string>; fields: Record<string, string> }>;
  /** What must never appear in a message: the secret in its wire forms. */
  readonly secrets: readonly string[];
  /** What only this client has, to derive store keys from (the secret, or the private key). */
  readonly storeSecret: string | Uint8Array;
  /** The TLS agent of every call (the client certificate, a private CA), when there is one. */
  readonly agent: Agent | undefined;
}

export function clientAuth(options: ClientAuthOptions, who: string): ClientAuth {
  const { clientId, clientSecret, authMethod } = options;
  const tls = options.tls === undefined ? undefined : readTls(options.tls, who);
  const agent = tls?.agent;
  const needsSecret = authMethod.startsWith('client_secret_');
  if (needsSecret && clientSecret === undefined) throw new ConfigError('clientSecret', `${who}: clientSecret is required for ${authMethod}`);
  if (!needsSecret && clientSecret !== undefined)
    throw new ConfigError('clientSecret', `${who}: ${authMethod} does not use clientSecret: leave it out (it would only widen what can leak)`);
  if (authMethod.includes('tls_client_auth') && options.tls?.cert === undefined) {
    throw new ConfigError('tls', `${who}: ${authMethod} needs tls: { cert, key } (the client certificate and its private key)`);
  }
  for (const option of ['privateKey', 'certificate'] as const)
    if (authMethod !== 'private_key_jwt' && options[option] !== undefined) throw new ConfigError(option, `${who}: ${option} is used by private_key_jwt only`);
  // An option that would do nothing is a mistake worth hearing about.
  for (const option of ['keyId', 'algorithm'] as const)
    if (!authMethod.endsWith('_jwt') && options[option] !== undefined)
      throw new ConfigError(option, `${who}: ${option} is used by client assertions only (client_secret_jwt, private_key_jwt), not ${authMethod}`);
  if (authMethod === 'client_secret_basic' && options.basicEncoding === 'raw' && clientId.includes(':'))
    throw new ConfigError('basicEncoding', `${who}: a clientId with ':' cannot be sent unencoded over Basic: use basicEncoding 'form' or client_secret_post`);
  const secrets = clientSecret === undefined ? [] : secretForms(clientSecret, clientId);

  if (authMethod === 'client_secret_basic' || authMethod === 'client_secret_post') {
    // RFC 6749 §2.3.1: id and secret are form-encoded before they are joined for Basic. Some servers
    // compare what they decode without undoing it: `basicEncoding: 'raw'` sends them as they are.
    const encode = options.basicEncoding === 'form' ? formEncode : (text: string) => text;
    const basic = basicCredential(encode(clientId), encode(clientSecret!));
    const fixed: { headers: Record<string, string>; fields: Record<string, string> } =
      authMethod === 'client_secret_basic'
        ? { headers: { Authorization: `Basic ${basic}` }, fields: {} }
        : { headers: {}, fields: { client_id: clientId, client_secret: clientSecret! } };
    return { method: authMethod, authenticate: () => Promise.resolve(fixed), secrets: [...secrets, basic], storeSecret: clientSecret!, agent };
  }
  if (authMethod === 'client_secret_jwt' || authMethod === 'private_key_jwt') {
    const signer =
      authMethod === 'client_secret_jwt'
        ? hmacSigner(clientSecret!, options.algorithm, who)
        : asymmetricSigner(signingKey(options.privateKey, options.algorithm, who));
    const storeSecret = authMethod === 'client_secret_jwt' ? clientSecret! : (signer.der as Uint8Array);
    const thumbprints = certificateHeader(options.certificate, signer, who);
    return {
      method: authMethod,
      async authenticate() {
        const now = Math.floor(Date.now() / 1000);
        const assertion = await new SignJWT({ jti: randomUUID() })
          .setProtectedHeader({ alg: signer.algorithm, typ: 'JWT', ...(options.keyId !== undefined && { kid: options.keyId }), ...thumbprints })
          .setIssuer(clientId)
          .setSubject(clientId)
          .setAudience(options.audience)
          .setIssuedAt(now)
          .setExpirationTime(now + ASSERTION_LIFETIME_S)
          .sign(signer.key);
        return {
          headers: {},
          fields: { client_id: clientId, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion },
        };
      },
      secrets,
      storeSecret,
      agent,
    };
  }
  // tls_client_auth / self_signed_tls_client_auth: the certificate is the credential; the body names the client.
  return {
    method: authMethod,
    authenticate: () => Promise.resolve({ headers: {}, fields: { client_id: clientId } }),
    secrets,
    storeSecret: tls!.keyDer!,
    agent,
  };
}

/**
 * `x5t` and `x5t#S256`: how Entra ID (and others) pick the certificate credential an assertion is
 * signed for. The certificate must be the private key's.
 */
function certificateHeader(value: unknown, signer: Signer, who: string): Record<string, string> {
  if (value === undefined) return {};
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(value as string | Buffer);
  } catch {
    throw new ConfigError('certificate', `${who}: certificate must be the PEM certificate of privateKey`);
  }
  if (signer.der === undefined || !certificate.checkPrivateKey(signer.key as SigningKey['key']))
    throw new ConfigError('certificate', `${who}: certificate is not the certificate of privateKey`);
  const thumbprint = (fingerprint: string) => Buffer.from(fingerprint.replace(/:/g, ''), 'hex').toString('base64url');
  return { x5t: thumbprint(certificate.fingerprint), 'x5t#S256': thumbprint(certificate.fingerprint256) };
}

function formEncode(text: string): string {
  return new URLSearchParams({ s: text }).toString().slice(2);
}

interface Signer {
  readonly algorithm: string;
  readonly key: Uint8Array | SigningKey['key'];
  readonly der?: Uint8Array;
}

function hmacSigner(secret: string, algorithm: unknown, who: string): Signer {
  const chosen = algorithm ?? 'HS256';
  if (chosen !== 'HS256' && chosen !== 'HS384' && chosen !== 'HS512')
    throw new ConfigError('algorithm', `${who}: client_secret_jwt signs with HS256, HS384 or HS512`);
  return { algorithm: chosen, key: new TextEncoder().encode(secret) };
}

function asymmetricSigner({ key, algorithm }: SigningKey): Signer {
  return { algorithm, key, der: key.export({ format: 'der', type: 'pkcs8' }) };
}
