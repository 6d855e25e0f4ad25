// Compact JWS as a server reads them, with node:crypto alone: the simulator imports nothing of the
// client, nor the JOSE library the client signs with, so that a signing bug shows in its tests.
import { KeyObject, constants, createHash, createHmac, createPublicKey, randomBytes, timingSafeEqual, verify, type JsonWebKey } from 'node:crypto';

export interface Jws {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly signingInput: Buffer;
  readonly signature: Buffer;
}

/** A key as a user hands one to the simulator: PEM, JWK object or KeyObject (a private key stands for its public half). */
export type SimKey = string | Buffer | JsonWebKey | KeyObject;

export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
const HASH: Readonly<Record<string, string>> = { 256: 'sha256', 384: 'sha384', 512: 'sha512' };
const CURVE: Readonly<Record<string, string>> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };
/** Members of a JWK that only a private (or symmetric) key has. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** `text` as header, payload and signature, or undefined when it is not a compact JWS with JSON objects. */
export function parseJws(text: string | undefined): Jws | undefined {
  const parts = (text ?? '').split('.');
  if (parts.length !== 3 || parts.some((part) => !/^[A-Za-z0-9_-]*$/.test(part))) return undefined;
  const header = objectOf(parts[0]!);
  const payload = objectOf(parts[1]!);
  if (header === undefined || payload === undefined) return undefined;
  return { header, payload, signingInput: Buffer.from(`${parts[0]}.${parts[1]}`), signature: Buffer.from(parts[2]!, 'base64url') };
}

function objectOf(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `jws` is signed with HS256/384/512 under `secret` (its UTF-8 octets, RFC 7518 §3.2). */
export function verifyHmac(jws: Jws, secret: string): boolean {
  const alg = String(jws.header['alg']);
  if (!(HMAC_ALGORITHMS as readonly string[]).includes(alg)) return false;
  const mac = createHmac(HASH[alg.slice(2)]!, secret).update(jws.signingInput).digest();
  return mac.length === jws.signature.length && timingSafeEqual(mac, jws.signature);
}

/** Whether `jws` is signed by the private half of `key` with its `alg`, which must fit the key. */
export function verifyAsymmetric(jws: Jws, key: KeyObject): boolean {
  const alg = String(jws.header['alg']);
  if (!fits(alg, key)) return false;
  const { signingInput: data, signature } = jws;
  const hash = HASH[alg.slice(2)];
  try {
    if (alg === 'EdDSA') return verify(null, data, key, signature);
    if (alg.startsWith('ES')) return verify(hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
    if (alg.startsWith('PS'))
      return verify(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, signature);
    return verify(hash, data, key, signature);
  } catch {
    return false;
  }
}

function fits(alg: string, key: KeyObject): boolean {
  const type = key.asymmetricKeyType;
  if (alg.startsWith('RS')) return type === 'rsa' && HASH[alg.slice(2)] !== undefined;
  if (alg.startsWith('PS')) return (type === 'rsa' || type === 'rsa-pss') && HASH[alg.slice(2)] !== undefined;
  if (alg.startsWith('ES')) return type === 'ec' && key.asymmetricKeyDetails?.namedCurve === CURVE[alg];
  return alg === 'EdDSA' && (type === 'ed25519' || type === 'ed448');
}

/** `value` as a public KeyObject; throws a TypeError (that never quotes the key) when it is not a key. */
export function publicKeyOf(value: SimKey, option: string): KeyObject {
  try {
    if (typeof value === 'string' || Buffer.isBuffer(value)) return createPublicKey(value);
    if (value instanceof KeyObject) return value.type === 'public' ? value : createPublicKey(value);
    return createPublicKey({ key: value, format: 'jwk' });
  } catch {
    throw new TypeError(`startSimulator: ${option} must be public keys as PEM strings, JWK objects or KeyObjects`);
  }
}

/** A DPoP proof's embedded `jwk` as a public key, or undefined when it is not a public JWK. */
export function embeddedKey(jwk: unknown): KeyObject | undefined {
  if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)) return undefined;
  if (PRIVATE_MEMBERS.some((member) => member in jwk)) return undefined;
  try {
    return createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch {
    return undefined;
  }
}

/** RFC 7638 thumbprint of a public key: SHA-256 over its required members, in lexicographic order. */
export function thumbprintOf(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  const required =
    jwk.kty === 'RSA'
      ? { e: jwk.e, kty: jwk.kty, n: jwk.n }
      : jwk.kty === 'EC'
        ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
        : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  return sha256(JSON.stringify(required));
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

/** A JWT signed HS256 with `key` (the simulator's JWT access tokens). */
export function signHs256(payload: object, key: Buffer): string {
  const input = `${Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'at+jwt' })).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
}

export const newKey = (): Buffer => randomBytes(32);
