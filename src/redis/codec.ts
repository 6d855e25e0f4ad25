// How a token is written to Redis: `tw1.<fingerprint>.<body>`. The fingerprint (a keyed hash of
// the access token) lets a Lua script delete "this token, only if it is still the one stored"
// without the script ever seeing the token. The body is the token as JSON, or AES-256-GCM
// ciphertext bound to the Redis key name when an encryption key is given.
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { ConfigError } from '../errors';
import { accessTokenOf } from '../token-response';
import type { StoredToken } from '../types';

const VERSION = 'tw1';
/** Characters of the token's (keyed) hash that name it in a value. */
const FINGERPRINT_LENGTH = 22;
const VALUE_FORMAT = new RegExp(`^${VERSION}\\.[\\w-]{${FINGERPRINT_LENGTH}}\\.([pe])([\\w-]+)$`);

export interface Codec {
  encode(token: StoredToken, keyName: string): string;
  /** The token, undefined for no value; throws for a value this codec cannot read. */
  decode(value: string | null, keyName: string): StoredToken | undefined;
  /** The prefix every value holding `accessToken` starts with. */
  prefixFor(accessToken: string): string;
}

/** A 32-byte key given as a Buffer, or as a string in hex (64 characters) or base64. */
export function parseKey(key: Buffer | string | undefined): Buffer | undefined {
  if (key === undefined) return undefined;
  const bytes = Buffer.isBuffer(key) ? key : /^[0-9a-f]{64}$/i.test(key) ? Buffer.from(key, 'hex') : Buffer.from(key, 'base64');
  if (bytes.length !== 32) {
    throw new ConfigError('encryptionKey', `redisStore(): encryptionKey must be 32 bytes (a Buffer, 64 hex characters or base64), got ${bytes.length} bytes`);
  }
  return bytes;
}

export function codec(key: Buffer | undefined, encrypt: boolean): Codec {
  if (encrypt && key === undefined) throw new ConfigError('encrypt', 'redisStore(): encrypt needs an encryptionKey');
  const fingerprint = (accessToken: string) =>
    (key ? createHmac('sha256', key) : createHash('sha256')).update(accessToken).digest('base64url').slice(0, FINGERPRINT_LENGTH);
  const prefixFor = (accessToken: string) => `${VERSION}.${fingerprint(accessToken)}.`;

  return {
    prefixFor,
    encode(token, keyName) {
      const json = Buffer.from(JSON.stringify({ a: token.accessToken, t: token.tokenType, e: token.expiresAt, i: token.issuedAt, s: token.scope, b: token.baseUrl }));
      if (!encrypt || key === undefined) return `${prefixFor(token.accessToken)}p${json.toString('base64url')}`;
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(keyName));
      const sealed = Buffer.concat([cipher.update(json), cipher.final()]);
      return `${prefixFor(token.accessToken)}e${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url')}`;
    },
    decode(value, keyName) {
      if (value === null) return undefined;
      const match = VALUE_FORMAT.exec(value);
      if (!match) throw new Error('the stored token is not in a format this version writes');
      let json: Buffer;
      const raw = Buffer.from(match[2]!, 'base64url');
      if (match[1] === 'p') {
        // With encryption on, a plaintext value is one we did not write: never adopt it.
        if (encrypt) throw new Error('the stored token is not encrypted, but this store encrypts: refusing it');
        json = raw;
      } else {
        if (key === undefined) throw new Error('the stored token is encrypted and this store has no encryptionKey');
        try {
          const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12)).setAAD(Buffer.from(keyName)).setAuthTag(raw.subarray(12, 28));
          json = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]);
        } catch {
          throw new Error('the stored token could not be decrypted: do all replicas use the same encryptionKey?');
        }
      }
      const fields = JSON.parse(json.toString('utf8')) as { a?: unknown; t?: unknown; e?: unknown; i?: unknown; s?: unknown; b?: unknown };
      if (typeof fields.a !== 'string' || typeof fields.e !== 'number' || typeof fields.i !== 'number' || typeof fields.t !== 'string') {
        throw new Error('the stored token is incomplete');
      }
      const token = accessTokenOf({ accessToken: fields.a, tokenType: fields.t, expiresAt: fields.e, issuedAt: fields.i, ...(typeof fields.s === 'string' && { scope: fields.s }) });
      return typeof fields.b === 'string' ? { ...token, baseUrl: fields.b } : token;
    },
  };
}
