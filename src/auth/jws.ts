// A compact JWS signed synchronously with node:crypto: a DPoP proof is made for every API request,
// inside axios's synchronous request interceptor, where the asynchronous WebCrypto signing of a
// JOSE library cannot run. (Client assertions, made once per token call, are signed with jose.)
import { constants, sign } from 'node:crypto';
import type { SigningKey } from './keys';

const HASH: Readonly<Record<string, string>> = { 256: 'sha256', 384: 'sha384', 512: 'sha512' };

export function signJws(header: object, payload: object, { key, algorithm }: SigningKey): string {
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  const data = Buffer.from(input);
  const hash = HASH[algorithm.slice(2)];
  let signature: Buffer;
  if (algorithm === 'EdDSA') signature = sign(null, data, key);
  else if (algorithm.startsWith('ES')) signature = sign(hash, data, { key, dsaEncoding: 'ieee-p1363' });
  else if (algorithm.startsWith('PS'))
    signature = sign(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
  else signature = sign(hash, data, key);
  return `${input}.${signature.toString('base64url')}`;
}
