// DPoP (RFC 9449): a key of the manager's own, a proof for every request that carries the token
// (the token call too), and the server nonces each origin hands out. The private key never leaves
// this module: not into a message, an event or `util.inspect`.
import { createHash, createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { signingKey, type SigningAlgorithm, type SigningKey } from './keys';
import { signJws } from './jws';
import { originOf } from '../utils/origin';
import { ConfigError } from '../errors';
import { checkOptions } from '../utils/options-check';

export interface DpopOptions {
  /** PEM string, JWK object or KeyObject. Default: a new ES256 key for this manager. */
  privateKey?: unknown;
  /** Default from the key (ES256 for P-256, RS256 for RSA, EdDSA for Ed25519). */
  algorithm?: SigningAlgorithm;
}

export interface Dpop {
  /** RFC 7638 thumbprint of the public key: what a token bound to it carries as `cnf.jkt`. */
  readonly thumbprint: string;
  /** A fresh proof for one request (`htu` without query and fragment). */
  proof(htm: string, htu: string, accessToken?: string): string;
  /** Remember the nonce a server at `origin` sent; true when it is a new one. */
  learn(origin: string, nonce: string | undefined): boolean;
  nonce(origin: string): string | undefined;
}

export function dpop(option: true | DpopOptions, who: string): Dpop {
  if (option !== true && (option === null || typeof option !== 'object' || Array.isArray(option)))
    throw new ConfigError('dpop', `${who}: dpop must be true, false or { privateKey, algorithm } (got ${option === null ? 'null' : typeof option})`);
  const given = option === true ? {} : option;
  // A typo here would quietly make a key per manager, and replicas would stop sharing tokens.
  checkOptions(given, ['privateKey', 'algorithm'], who, 'dpop.');
  if (given.privateKey === undefined && given.algorithm !== undefined && given.algorithm !== 'ES256')
    throw new ConfigError(
      'dpop.algorithm',
      `${who}: dpop.algorithm ${String(given.algorithm).slice(0, 8)} needs a dpop.privateKey that fits it (the key made for you is P-256, ES256)`,
    );
  const signer: SigningKey =
    given.privateKey === undefined
      ? { key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, algorithm: 'ES256' }
      : signingKey(given.privateKey, given.algorithm, who, 'dpop.privateKey', 'dpop.algorithm');
  const jwk = publicJwk(signer);
  const thumbprint = createHash('sha256').update(JSON.stringify(jwk)).digest('base64url');
  const nonces = new Map<string, string>();
  let athFor: { token: string; ath: string } | undefined;
  const ath = (token: string) => {
    if (athFor?.token !== token) athFor = { token, ath: createHash('sha256').update(token).digest('base64url') };
    return athFor.ath;
  };
  return {
    thumbprint,
    proof(htm, htu, accessToken) {
      const nonce = nonces.get(originOf(htu) ?? htu);
      const payload = {
        htm,
        htu,
        iat: Math.floor(Date.now() / 1000),
        jti: randomUUID(),
        ...(accessToken && { ath: ath(accessToken) }),
        ...(nonce && { nonce }),
      };
      return signJws({ typ: 'dpop+jwt', alg: signer.algorithm, jwk }, payload, signer);
    },
    learn(origin, nonce) {
      // A nonce is printable ASCII (RFC 9449 §8.1); anything else is not one.
      if (nonce === undefined || nonce === nonces.get(origin) || !/^[\x21\x23-\x5b\x5d-\x7e]{1,256}$/.test(nonce)) return false;
      nonces.set(origin, nonce);
      return true;
    },
    nonce: (origin) => nonces.get(origin),
  };
}

/** The public half as a JWK with only the members RFC 7638 hashes, in their order. */
function publicJwk({ key }: SigningKey): Record<string, string> {
  const full = createPublicKey(key).export({ format: 'jwk' });
  if (full.kty === 'RSA') return { e: full.e!, kty: 'RSA', n: full.n! };
  if (full.kty === 'EC') return { crv: full.crv!, kty: 'EC', x: full.x!, y: full.y! };
  return { crv: full.crv!, kty: full.kty!, x: full.x! };
}
