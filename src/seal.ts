// How a token is kept in a store that others can read (a shared Redis): under a name only a holder
// of the credential can compute, and sealed so that only such a holder can read or forge it. Client
// ids are not secret, so nothing here may be derivable from the identity alone: every key comes
// from the credential (the client secret) by HKDF, with the identity as context.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { accessTokenOf } from './token-response';
import type { AccessToken, StoredEntry } from './types';

/** A token as replicas share it: with the API base URL it belongs to, when that was discovered. */
export interface SharedToken {
  readonly token: AccessToken;
  readonly baseUrl?: string;
}

/** The format of names and entries. A new version gets new names, so old entries are never read. */
const VERSION = 'v2';
const SALT = `tokenwarden store ${VERSION}`;
/** Characters of the keyed hash that name a token inside an entry (132 bits). */
const TAG_LENGTH = 22;
const IV_BYTES = 12;
const AUTH_TAG_BYTES = 16;

export interface Keyring {
  /**
   * The store key: `tokenwarden:v2:{<keyed hash of the identity>}`. The braces are a Redis Cluster
   * hash tag, so the key and its lock (`<key>:lock`) live in one slot.
   */
  readonly key: string;
  /** Names `accessToken` in an entry without revealing it: `delete(key, tag)` removes only that token. */
  tagFor(accessToken: string): string;
  seal(shared: SharedToken): StoredEntry;
  /** The token, or undefined for an entry this credential did not seal (another secret, an older version, tampering). */
  open(entry: StoredEntry): SharedToken | undefined;
}

/**
 * The keys for one identity under one credential. `secret` is what only the credential's holder
 * has: with another secret every name, tag and seal comes out different.
 */
export function keyring(identity: string, secret: string | Uint8Array): Keyring {
  const okm = Buffer.from(hkdfSync('sha256', secret, SALT, `tokenwarden\0${identity}`, 96));
  const nameKey = okm.subarray(0, 32);
  const tagKey = okm.subarray(32, 64);
  const valueKey = okm.subarray(64, 96);
  const key = `tokenwarden:${VERSION}:{${createHmac('sha256', nameKey).update(identity).digest('hex').slice(0, 32)}}`;
  const aad = Buffer.from(key);
  const tagFor = (accessToken: string) => createHmac('sha256', tagKey).update(accessToken).digest('base64url').slice(0, TAG_LENGTH);

  return {
    key,
    tagFor,
    seal({ token, baseUrl }) {
      const json = JSON.stringify({ a: token.accessToken, t: token.tokenType, e: token.expiresAt, i: token.issuedAt, s: token.scope, b: baseUrl });
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', valueKey, iv).setAAD(aad);
      const sealed = Buffer.concat([cipher.update(json, 'utf8'), cipher.final()]);
      return { tag: tagFor(token.accessToken), sealed: Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url') };
    },
    open(entry) {
      if (typeof entry?.sealed !== 'string' || typeof entry.tag !== 'string') return undefined;
      const raw = Buffer.from(entry.sealed, 'base64url');
      if (raw.length <= IV_BYTES + AUTH_TAG_BYTES) return undefined;
      let fields: Record<string, unknown>;
      try {
        const decipher = createDecipheriv('aes-256-gcm', valueKey, raw.subarray(0, IV_BYTES))
          .setAAD(aad)
          .setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + AUTH_TAG_BYTES));
        const json = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + AUTH_TAG_BYTES)), decipher.final()]).toString('utf8');
        fields = JSON.parse(json) as Record<string, unknown>;
      } catch {
        return undefined;
      }
      const { a, t, e, i, s, b } = fields;
      if (typeof a !== 'string' || typeof t !== 'string' || typeof e !== 'number' || typeof i !== 'number' || tagFor(a) !== entry.tag) return undefined;
      const token = accessTokenOf({ accessToken: a, tokenType: t, expiresAt: e, issuedAt: i, ...(typeof s === 'string' && { scope: s }) });
      return typeof b === 'string' ? { token, baseUrl: b } : { token };
    },
  };
}
