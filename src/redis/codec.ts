// How an entry is written to Redis: `tw2.<tag>.<p|e><body>`. The tag (a keyed hash of the access
// token, from the manager) lets a Lua script delete "this token, only if it is still the one
// stored" without the script ever seeing the token. The body is the manager's sealed token as is
// (`p`), or sealed once more with the store's own encryptionKey (`e`), bound to the key name.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ConfigError } from '../errors';
import type { StoredEntry } from '../types';

const VERSION = 'tw2';
const VALUE_FORMAT = /^tw2\.([\w-]{1,64})\.([pe])([\w-]+)$/;

export interface Codec {
  encode(entry: StoredEntry, keyName: string): string;
  /**
   * The entry, or undefined for no value and for a value this store cannot have written: an older
   * format, plaintext where it encrypts, another encryptionKey. Such a value is overwritten by the
   * next token, never mistaken for one.
   */
  decode(value: string | null, keyName: string): StoredEntry | undefined;
  /** The prefix every value holding the entry tagged `tag` starts with. */
  prefixFor(tag: string): string;
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

export function codec(key: Buffer | undefined): Codec {
  const prefixFor = (tag: string) => `${VERSION}.${tag}.`;
  return {
    prefixFor,
    encode(entry, keyName) {
      if (key === undefined) return `${prefixFor(entry.tag)}p${entry.sealed}`;
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(keyName));
      const sealed = Buffer.concat([cipher.update(entry.sealed, 'utf8'), cipher.final()]);
      return `${prefixFor(entry.tag)}e${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url')}`;
    },
    decode(value, keyName) {
      const match = value === null ? null : VALUE_FORMAT.exec(value);
      if (!match) return undefined;
      const [, tag, kind, body] = match as unknown as [string, string, string, string];
      // With an encryptionKey, a value without our layer is one we did not write: never adopt it.
      if (kind === 'p') return key === undefined ? { tag, sealed: body } : undefined;
      if (key === undefined) return undefined;
      try {
        const raw = Buffer.from(body, 'base64url');
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12)).setAAD(Buffer.from(keyName)).setAuthTag(raw.subarray(12, 28));
        return { tag, sealed: Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8') };
      } catch {
        return undefined;
      }
    },
  };
}
