// How a token is kept in a store that others can read (a shared Redis): under a name only a holder
// of the credential can compute, and sealed so that only such a holder can read or forge it. Client
// ids are not secret, so nothing here may be derivable from the identity alone: every key comes
// from the credential (the client secret) by HKDF, with the identity as context.
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes, scryptSync } from 'node:crypto';
import { accessTokenOf } from './token';
import type { AccessToken, StoredEntry } from '../types';

/** A token as replicas share it: with its provider's state (`shareState()`), when it has one. */
export interface SharedToken {
  readonly token: AccessToken;
  readonly state?: unknown;
}

/** The format of names and entries. A new version gets new names, so old entries are never read. */
const VERSION = 'v2';
const SALT = `tokenwarden store ${VERSION}`;
/** Characters of the keyed hash that name a token inside an entry (132 bits). */
const TAG_LENGTH = 22;
const IV_BYTES = 12;
const AUTH_TAG_BYTES = 16;
/** Sealed plaintexts are padded to a multiple of this, so an entry's length tells nothing (cloud, scope). */
const PAD_BYTES = 512;
/**
 * scrypt's cost for the secret, once per secret per process (about 30 ms): a key name and an entry
 * are an offline oracle for guesses at the secret, so a guess must cost what a login's does.
 */
const SCRYPT = { N: 2 ** 14, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
/** Stretched secrets, by a hash of the secret: a pool of many identities under one secret pays once. */
const stretched = new Map<string, Buffer>();
const MAX_STRETCHED = 1_000;

function stretch(secret: string | Uint8Array): Buffer {
  const id = createHash('sha256').update(secret).digest('base64url');
  let key = stretched.get(id);
  if (key === undefined) {
    key = scryptSync(secret, SALT, 32, SCRYPT);
    if (stretched.size >= MAX_STRETCHED) stretched.delete(stretched.keys().next().value!);
    stretched.set(id, key);
  }
  return key;
}

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
 * has: with another secret every name, tag and seal comes out different. `random`: the secret is
 * 32 random bytes already (a private store's), with nothing to stretch.
 */
export function keyring(identity: string, secret: string | Uint8Array, options: { random?: boolean } = {}): Keyring {
  const master = options.random ? secret : stretch(secret);
  // HKDF takes at most 1 KiB of context: a long identity (many scopes) goes in as its hash.
  const context = `tokenwarden\0${createHash('sha256').update(identity).digest('hex')}`;
  const okm = Buffer.from(hkdfSync('sha256', master, SALT, context, 96));
  const nameKey = okm.subarray(0, 32);
  const tagKey = okm.subarray(32, 64);
  const valueKey = okm.subarray(64, 96);
  const key = `tokenwarden:${VERSION}:{${createHmac('sha256', nameKey).update(identity).digest('hex').slice(0, 32)}}`;
  const aad = Buffer.from(key);
  const tagFor = (accessToken: string) => createHmac('sha256', tagKey).update(accessToken).digest('base64url').slice(0, TAG_LENGTH);

  return {
    key,
    tagFor,
    seal({ token, state }) {
      const json = Buffer.from(
        JSON.stringify({ a: token.accessToken, t: token.tokenType, e: token.expiresAt, i: token.issuedAt, s: token.scope, r: token.refreshAt, p: state }),
      );
      // JSON ignores trailing whitespace: padding with spaces needs no framing.
      const padded = Buffer.concat([json, Buffer.alloc(PAD_BYTES - (json.length % PAD_BYTES), 0x20)]);
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', valueKey, iv).setAAD(aad);
      const sealed = Buffer.concat([cipher.update(padded), cipher.final()]);
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
      const { a, t, e, i, s, r, p } = fields;
      if (typeof a !== 'string' || typeof t !== 'string' || typeof e !== 'number' || typeof i !== 'number' || tagFor(a) !== entry.tag) return undefined;
      const token = accessTokenOf({
        accessToken: a,
        tokenType: t,
        expiresAt: e,
        issuedAt: i,
        ...(typeof s === 'string' && { scope: s }),
        ...(typeof r === 'number' && { refreshAt: r }),
      });
      return p === undefined ? { token } : { token, state: p };
    },
  };
}
