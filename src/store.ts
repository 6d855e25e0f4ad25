import { createHash } from 'node:crypto';
import type { AccessToken, TokenStore } from './types';

/**
 * The store key for a provider: a hash of its identity (token URL, client id, tenant, scope), so
 * keys name no credentials and two managers with the same credentials find the same token.
 */
export function storeKey(identity: string): string {
  return `tokenwarden:v1:${createHash('sha256').update(identity).digest('hex').slice(0, 32)}`;
}

/** A holder of a memory store's lock that never gives it back loses it after this long. */
const MEMORY_LOCK_LEASE_MS = 30_000;

export interface MemoryStoreOptions {
  /**
   * Several managers use this store: like a Redis store, a manager's dispose() then leaves the
   * token they share unrevoked unless asked. Default false.
   */
  shared?: boolean;
}

/**
 * Tokens in this process's memory. Each manager gets its own by default; pass one instance to
 * several managers with the same credentials and they share one token and one refresh.
 */
export function memoryStore(options: MemoryStoreOptions = {}): TokenStore {
  const entries = new Map<string, { token: AccessToken; until: number }>();
  const locks = new Map<string, { until: number }>();
  const live = (key: string) => {
    const entry = entries.get(key);
    if (entry !== undefined && Date.now() >= entry.until) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };
  return {
    shared: options.shared === true,
    async get(key) {
      return live(key)?.token;
    },
    async set(key, token, ttlMs) {
      entries.set(key, { token, until: Date.now() + Math.max(0, ttlMs) });
    },
    async delete(key, accessToken) {
      if (accessToken === undefined || live(key)?.token.accessToken === accessToken) entries.delete(key);
    },
    async lock(key) {
      const held = locks.get(key);
      if (held !== undefined && held.until > Date.now()) return undefined;
      const mine = { until: Date.now() + MEMORY_LOCK_LEASE_MS };
      locks.set(key, mine);
      return {
        async release(holdMs = 0) {
          if (locks.get(key) !== mine) return;
          if (holdMs > 0) mine.until = Date.now() + holdMs;
          else locks.delete(key);
        },
      };
    },
  };
}
