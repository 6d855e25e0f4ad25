// Private keys as users hand them in (a PEM string, a JWK object, a KeyObject), checked once: the
// right kind of key for the algorithm, and never a word of the key in any message.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { ConfigError } from '../errors';

export type SigningAlgorithm = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA';

export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** What a key of each kind signs with when no algorithm is named. */
const DEFAULT_FOR: Readonly<Record<string, SigningAlgorithm>> = {
  rsa: 'RS256',
  'P-256': 'ES256',
  'P-384': 'ES384',
  'P-521': 'ES512',
  ed25519: 'EdDSA',
};

export interface SigningKey {
  readonly key: KeyObject;
  readonly algorithm: SigningAlgorithm;
}

/** `privateKey` as a KeyObject with the algorithm it signs with (`algorithm`, or the key's default). */
export function signingKey(privateKey: unknown, algorithm: unknown, who: string, option = 'privateKey', algorithmOption = 'algorithm'): SigningKey {
  const key = privateKeyOf(privateKey, who, option);
  const kind = normalCurve(key.asymmetricKeyType === 'ec' ? String(key.asymmetricKeyDetails?.namedCurve ?? 'ec') : String(key.asymmetricKeyType));
  // RSA-PSS-only keys and Ed448 cannot be signed with here (nor put in a JWK): said now, not at the first token call.
  if (DEFAULT_FOR[kind] === undefined)
    throw new ConfigError(option, `${who}: ${option} is a ${kind.slice(0, 20)} key, which cannot sign here: use an RSA, P-256, P-384, P-521 or Ed25519 key`);
  const chosen = algorithm === undefined ? DEFAULT_FOR[kind] : algorithm;
  if (typeof chosen !== 'string' || !(SIGNING_ALGORITHMS as readonly string[]).includes(chosen)) {
    const got =
      algorithm === undefined
        ? `a ${kind} key, which has no default`
        : typeof algorithm === 'string'
          ? `a ${algorithm.length}-character string`
          : typeof algorithm;
    throw new ConfigError(algorithmOption, `${who}: ${algorithmOption} must be one of ${SIGNING_ALGORITHMS.join(', ')} (got ${got})`);
  }
  if (!fits(chosen as SigningAlgorithm, kind)) {
    throw new ConfigError(
      algorithmOption,
      `${who}: ${chosen} cannot be signed with ${option} (a ${kind} key): use ${DEFAULT_FOR[kind] ?? 'another key'}, or a key that fits ${chosen}`,
    );
  }
  return { key, algorithm: chosen as SigningAlgorithm };
}

function privateKeyOf(value: unknown, who: string, option: string): KeyObject {
  if (value === undefined || value === null || value === '') throw new ConfigError(option, `${who}: ${option} is required for this method`);
  let key: KeyObject;
  try {
    if (typeof value === 'string' || Buffer.isBuffer(value)) key = createPrivateKey(value);
    else if (isKeyObject(value)) key = value;
    else if (typeof value === 'object') key = createPrivateKey({ key: value as import('node:crypto').JsonWebKey, format: 'jwk' });
    else throw new TypeError('not a key');
  } catch {
    // Never the key itself, nor the parser's words about it.
    throw new ConfigError(option, `${who}: ${option} could not be read: give a private key as a PEM string, a JWK object (with "d") or a KeyObject`);
  }
  if (key.type !== 'private') throw new ConfigError(option, `${who}: ${option} is a ${key.type} key; a private key is needed to sign`);
  return key;
}

function isKeyObject(value: unknown): value is KeyObject {
  return typeof value === 'object' && value !== null && typeof (value as KeyObject).export === 'function' && 'asymmetricKeyType' in value;
}

function normalCurve(kind: string): string {
  return ({ prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' } as Record<string, string>)[kind] ?? kind;
}

function fits(algorithm: SigningAlgorithm, kind: string): boolean {
  if (algorithm.startsWith('RS')) return kind === 'rsa';
  if (algorithm.startsWith('PS')) return kind === 'rsa';
  if (algorithm === 'ES256') return kind === 'P-256';
  if (algorithm === 'ES384') return kind === 'P-384';
  if (algorithm === 'ES512') return kind === 'P-521';
  return kind === 'ed25519';
}
