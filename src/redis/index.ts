// tokenwarden/redis: one token for a fleet of processes, in the Redis they already run. Only
// imported by users who ask for it; it loads nothing from ioredis at run time (the client is
// passed in), so ioredis stays an optional peer dependency.
import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { ConfigError } from '../errors';
import { checkOptions } from '../utils/options-check';
import { noop } from '../core/clock';
import { leasedLock } from '../core/store';
import type { StoreLock, StoreNotice, TokenStore } from '../types';
import { codec, parseKey } from './codec';

export interface RedisStoreOptions {
  /** An ioredis client (or Cluster) the store borrows; it does not close it. */
  client: Redis | Cluster;
  /** Prepended to every key. Default none (keys already start with `tokenwarden:`). */
  keyPrefix?: string;
  /**
   * A second layer of AES-256-GCM at rest, 32 bytes (a Buffer, 64 hex characters or base64). Every
   * token is already sealed under a key derived from its client secret; with this key, a reader
   * of Redis also needs this to get as far as the sealed text.
   */
  encryptionKey?: Buffer | string;
  /**
   * How long a refresh lock outlives a holder that died, in ms. A live holder renews it every
   * third of this. Default 5000.
   */
  lockLeaseMs?: number;
}

/**
 * The value and its TTL in one round trip, or nothing for a key that holds anything else: another
 * type (a planted hash would make GET fail for ever: an outage no one could end), or a value
 * larger than a token's (a planted 300 MB string would be read in full by every replica). The
 * next token published replaces either.
 */
const READ = `local kind = redis.call('TYPE', KEYS[1]).ok
if kind ~= 'string' then return false end
if redis.call('STRLEN', KEYS[1]) > tonumber(ARGV[1]) then return false end
return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1])}`;
/** The largest value a token can make (an 8 KiB token, sealed, padded, and sealed once more). */
const MAX_VALUE_BYTES = 32 * 1024;
/**
 * Take the lock; a lock without an expiry (or of another type) is no holder's (every lock we
 * grant has a lease), so it is taken over rather than waited on.
 */
const LOCK = `if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return 1 end
if redis.call('PTTL', KEYS[1]) == -1 then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;
const DELETE_IF_STILL = `local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, string.len(ARGV[1])) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
const RELEASE_IF_OWNER = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
const RENEW_IF_OWNER = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

/** What a notice can be: a token set or deleted, and its tag as the codec writes it, nothing longer. */
const NOTICE_FORMAT = /^(set|deleted):([\w-]{1,64})$/;

const OPTIONS = ['client', 'keyPrefix', 'encryptionKey', 'lockLeaseMs'] as const;

export function redisStore(options: RedisStoreOptions): TokenStore & { readonly shared: true } {
  checkOptions(options, OPTIONS, 'redisStore()');
  const client = options?.client;
  if (!client || typeof client.get !== 'function' || typeof client.eval !== 'function') {
    throw new ConfigError('client', 'redisStore(): client must be an ioredis client (new Redis(...)) or Cluster');
  }
  const lease = options.lockLeaseMs ?? 5_000;
  if (typeof lease !== 'number' || !(lease >= 100) || !Number.isFinite(lease)) {
    throw new ConfigError('lockLeaseMs', `redisStore(): lockLeaseMs must be a number of ms, at least 100, got ${String(lease)}`);
  }
  const values = codec(parseKey(options.encryptionKey));
  const prefix = options.keyPrefix ?? '';
  const tokenKey = (name: string) => `${prefix}${name}`;
  const lockKey = (name: string) => `${prefix}${name}:lock`;
  // Pub/sub channels are no keys, but the name keeps the key's hash tag (for a sharded SPUBLISH).
  const channel = (name: string) => `${prefix}${name}:notices`;
  // Best effort: a user whose ACL has no PUBLISH loses only the notices (replicas then learn from
  // their own 401, and waiters poll, as before).
  const announce = (name: string, notice: StoreNotice) => client.publish(channel(name), `${notice.kind}:${notice.tag}`).catch(noop);
  const watchers = new Watchers(client);

  return {
    shared: true,

    async get(name) {
      const read = (await client.eval(READ, 1, tokenKey(name), MAX_VALUE_BYTES)) as [string, number] | null;
      if (!Array.isArray(read)) return undefined;
      // The TTL counts down on Redis's clock: the manager bounds the token's expiry by it, so a
      // replica whose clock runs behind cannot stretch the token. A key without one is not ours.
      const entry = values.decode(read[0], tokenKey(name));
      return entry && { ...entry, ttlMs: Number(read[1]) };
    },

    async set(name, entry, ttlMs) {
      // The key lives exactly as long as the token.
      const ttl = Math.floor(ttlMs);
      if (ttl <= 0) return;
      // The notice goes out after the write, so a watcher that reads the key finds the token: one
      // connection runs the two in order (one round trip for both); a Cluster may send them to two
      // nodes, so there it waits for the write.
      const setting = client.set(tokenKey(name), values.encode(entry, tokenKey(name)), 'PX', ttl);
      if (client.isCluster) await setting;
      await Promise.all([setting, announce(name, { kind: 'set', tag: entry.tag })]);
    },

    async delete(name, tag) {
      if (tag === undefined) return void (await client.del(tokenKey(name)));
      // Told only of a real delete, and after it, so a watcher that reads the key finds it gone; a
      // replica whose 401 came after the token was already deleted (and announced) tells no one.
      if ((await client.eval(DELETE_IF_STILL, 1, tokenKey(name), values.prefixFor(tag))) === 1) await announce(name, { kind: 'deleted', tag });
    },

    watch(name, notice) {
      return watchers.add(channel(name), notice);
    },

    async lock(name): Promise<StoreLock | undefined> {
      // The holder's pid is in the value for whoever has to find out who holds it.
      const owner = `${process.pid}:${randomUUID()}`;
      const key = lockKey(name);
      if ((await client.eval(LOCK, 1, key, owner, lease)) !== 1) return undefined;
      return leasedLock(lease, {
        renew: async () => (await client.eval(RENEW_IF_OWNER, 1, key, owner, lease)) !== 0,
        hold: async (ms) => void (await client.eval(RENEW_IF_OWNER, 1, key, owner, ms)),
        release: async () => void (await client.eval(RELEASE_IF_OWNER, 1, key, owner)),
      });
    },
  };
}

/**
 * Everyone in this process who watches a key of one store, on one subscriber connection (the
 * client's duplicate(), opened with the first watcher, closed with the last: no handle outlives
 * the managers). ioredis subscribes again by itself after a reconnect.
 */
class Watchers {
  readonly #client: Redis | Cluster;
  readonly #byChannel = new Map<string, Set<(notice: StoreNotice) => void>>();
  #subscriber: Redis | Cluster | undefined;

  constructor(client: Redis | Cluster) {
    this.#client = client;
  }

  add(channel: string, notice: (notice: StoreNotice) => void): () => void {
    const subscriber = (this.#subscriber ??= this.#open());
    let listeners = this.#byChannel.get(channel);
    if (listeners === undefined) {
      listeners = new Set();
      this.#byChannel.set(channel, listeners);
      subscriber.subscribe(channel).catch(noop);
    }
    const mine = (told: StoreNotice) => notice(told);
    listeners.add(mine);
    return () => {
      if (!listeners.delete(mine) || listeners.size > 0) return;
      this.#byChannel.delete(channel);
      if (this.#byChannel.size > 0) return void this.#subscriber?.unsubscribe(channel).catch(noop);
      this.#close();
    };
  }

  /** The subscriber goes, and so does our listener on the app's client (no listener piles up there). */
  #close(): void {
    this.#subscriber?.disconnect();
    this.#subscriber = undefined;
    this.#byChannel.clear();
    this.#client.off('end', this.#ended);
  }

  /** An app that quits its client without disposing its managers must not be kept alive by ours. */
  readonly #ended = () => this.#close();

  #open(): Redis | Cluster {
    const subscriber = this.#client.duplicate();
    // Its failures are the main client's too, and reported through it: this one only reconnects.
    subscriber.on('error', noop);
    this.#client.once('end', this.#ended);
    subscriber.on('message', (channel: string, message: unknown) => {
      const parsed = typeof message === 'string' ? NOTICE_FORMAT.exec(message) : null;
      if (parsed === null) return;
      const notice: StoreNotice = { kind: parsed[1] as StoreNotice['kind'], tag: parsed[2]! };
      for (const listener of [...(this.#byChannel.get(channel) ?? [])]) {
        try {
          listener(notice);
        } catch {
          // one watcher's failure is not the others'
        }
      }
    });
    return subscriber;
  }
}
