// tokenwarden/redis: one token for a fleet of processes, in the Redis they already run. Only
// imported by users who ask for it; it loads nothing from ioredis at run time (the client is
// passed in), so ioredis stays an optional peer dependency.
import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { noop } from '../clock';
import { ConfigError } from '../errors';
import type { StoreLock, TokenStore } from '../types';
import { codec, parseKey } from './codec';

export interface RedisStoreOptions {
  /** An ioredis client (or Cluster) the store borrows; it does not close it. */
  client: Redis | Cluster;
  /** Prepended to every key. Default none (keys already start with `tokenwarden:`). */
  keyPrefix?: string;
  /** 32 bytes (a Buffer, 64 hex characters or base64): tokens are stored AES-256-GCM encrypted. */
  encryptionKey?: Buffer | string;
  /** Encrypt tokens at rest. Default: true when an encryptionKey is given. */
  encrypt?: boolean;
  /**
   * How long a refresh lock outlives a holder that died, in ms. A live holder renews it every
   * third of this. Default 5000.
   */
  lockLeaseMs?: number;
}

const DELETE_IF_STILL = `local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, string.len(ARGV[1])) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
const RELEASE_IF_OWNER = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
const RENEW_IF_OWNER = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

export function redisStore(options: RedisStoreOptions): TokenStore & { readonly shared: true } {
  const client = options?.client;
  if (!client || typeof client.get !== 'function' || typeof client.eval !== 'function') {
    throw new ConfigError('client', 'redisStore(): client must be an ioredis client (new Redis(...)) or Cluster');
  }
  const lease = options.lockLeaseMs ?? 5_000;
  if (typeof lease !== 'number' || !(lease >= 100) || !Number.isFinite(lease)) {
    throw new ConfigError('lockLeaseMs', `redisStore(): lockLeaseMs must be a number of ms, at least 100, got ${String(lease)}`);
  }
  const key = parseKey(options.encryptionKey);
  const values = codec(key, options.encrypt ?? key !== undefined);
  const prefix = options.keyPrefix ?? '';
  const tokenKey = (name: string) => `${prefix}${name}`;
  const lockKey = (name: string) => `${prefix}${name}:lock`;

  return {
    shared: true,

    async get(name) {
      const [value, ttl] = await Promise.all([client.get(tokenKey(name)), client.pttl(tokenKey(name))]);
      const token = values.decode(value, tokenKey(name));
      // The key's TTL counts down on Redis's clock: it bounds the expiry whatever the writer's
      // wall clock said, so a replica whose clock runs behind cannot stretch the token.
      if (token === undefined || !(ttl > 0) || token.expiresAt <= Date.now() + ttl) return token;
      return { ...token, expiresAt: Date.now() + ttl };
    },

    async set(name, token, ttlMs) {
      // The key lives exactly as long as the token.
      const ttl = Math.floor(ttlMs);
      if (ttl > 0) await client.set(tokenKey(name), values.encode(token, tokenKey(name)), 'PX', ttl);
    },

    async delete(name, accessToken) {
      if (accessToken === undefined) await client.del(tokenKey(name));
      else await client.eval(DELETE_IF_STILL, 1, tokenKey(name), values.prefixFor(accessToken));
    },

    async lock(name): Promise<StoreLock | undefined> {
      // The holder's pid is in the value for whoever has to find out who holds it.
      const owner = `${process.pid}:${randomUUID()}`;
      if ((await client.set(lockKey(name), owner, 'PX', lease, 'NX')) !== 'OK') return undefined;
      // Renew while held, so a slow token call keeps the lock; a holder that dies stops renewing.
      const renewal = setInterval(() => {
        client.eval(RENEW_IF_OWNER, 1, lockKey(name), owner, lease).then((renewed) => {
          if (renewed === 0) clearInterval(renewal);
        }, noop);
      }, lease / 3);
      renewal.unref?.();
      return {
        async release(holdMs = 0) {
          clearInterval(renewal);
          // Kept a while longer (a failed refresh's quiet period), then it lapses by itself.
          if (holdMs > 0) await client.eval(RENEW_IF_OWNER, 1, lockKey(name), owner, Math.ceil(holdMs));
          else await client.eval(RELEASE_IF_OWNER, 1, lockKey(name), owner);
        },
      };
    },
  };
}
