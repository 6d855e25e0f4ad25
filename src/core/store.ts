// The in-memory token store, and what every store's lock shares: a lease renewed while it is held.
import { unrefInterval } from './clock';
import { keyring } from './seal';
import type { StoreLock, StoreNotice, StoredEntry, TokenProvider, TokenStore } from '../types';

/**
 * The key under which a store keeps `provider`'s token: a keyed hash of its identity under its
 * secret, so it names no credential and only a holder of the secret can find it. For operators:
 * which Redis key belongs to which service.
 */
export function storeKey(provider: TokenProvider): string {
  const secret = provider.storeSecret?.();
  if (secret === undefined) throw new TypeError('storeKey(): this provider has no storeSecret(), so it keeps its token out of stores');
  return keyring(provider.identity, secret).key;
}

/** A memory store's lock outlives a holder that stopped renewing it by this long. */
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
  const entries = new Map<string, { entry: StoredEntry; until: number }>();
  const locks = new Map<string, { until: number }>();
  const watchers = new Map<string, Set<(notice: StoreNotice) => void>>();
  // Told after the change, and never inside the caller's call, as a Redis subscriber would be.
  const tell = (key: string, notice: StoreNotice) => {
    for (const watcher of [...(watchers.get(key) ?? [])]) queueMicrotask(() => attempt(() => watcher(notice)));
  };
  const live = (key: string) => {
    const held = entries.get(key);
    if (held !== undefined && Date.now() >= held.until) {
      entries.delete(key);
      return undefined;
    }
    return held;
  };
  return {
    shared: options.shared === true,
    async get(key) {
      const held = live(key);
      return held && { ...held.entry, ttlMs: held.until - Date.now() };
    },
    async set(key, entry, ttlMs) {
      entries.set(key, { entry: { tag: entry.tag, sealed: entry.sealed }, until: Date.now() + Math.max(0, ttlMs) });
      tell(key, { kind: 'set', tag: entry.tag });
    },
    async delete(key, tag) {
      if (tag === undefined) return void entries.delete(key);
      // As a Redis store: told only of a real delete.
      if (live(key)?.entry.tag === tag && entries.delete(key)) tell(key, { kind: 'deleted', tag });
    },
    watch(key, watcher) {
      const listeners = watchers.get(key) ?? new Set();
      watchers.set(key, listeners.add(watcher));
      return () => {
        listeners.delete(watcher);
        if (listeners.size === 0 && watchers.get(key) === listeners) watchers.delete(key);
      };
    },
    async lock(key) {
      const held = locks.get(key);
      if (held !== undefined && held.until > Date.now()) return undefined;
      const mine = { until: Date.now() + MEMORY_LOCK_LEASE_MS };
      locks.set(key, mine);
      return leasedLock(MEMORY_LOCK_LEASE_MS, {
        renew: async () => {
          if (locks.get(key) !== mine) return false;
          mine.until = Date.now() + MEMORY_LOCK_LEASE_MS;
          return true;
        },
        hold: async (ms) => {
          if (locks.get(key) === mine) mine.until = Date.now() + ms;
        },
        release: async () => {
          if (locks.get(key) === mine) locks.delete(key);
        },
      });
    },
  };
}

/** How one store renews, extends and gives up a lock it granted; each acts only for its holder. */
export interface LeaseOps {
  /** Extend the lease by a full term; false once the lock is no longer ours. */
  renew(): Promise<boolean>;
  /** Keep the lock `ms` more from now, then let it lapse. */
  hold(ms: number): Promise<void>;
  release(): Promise<void>;
}

/**
 * A granted lock, renewed every third of its lease for as long as it is held: a slow refresh keeps
 * it, a holder that dies (or stops renewing) loses it when the lease runs out.
 */
export function leasedLock(leaseMs: number, ops: LeaseOps): StoreLock {
  const renewal = unrefInterval(() => {
    ops.renew().then(
      (ours) => {
        if (!ours) clearInterval(renewal);
      },
      () => undefined,
    );
  }, leaseMs / 3);
  return {
    async release(holdMs = 0) {
      clearInterval(renewal);
      // Kept a while longer (a failed refresh's quiet period), then it lapses by itself.
      if (holdMs > 0) await ops.hold(Math.ceil(holdMs));
      else await ops.release();
    },
  };
}

/** Run `listener`: what it throws is its own (one watcher's failure is not the others'). */
function attempt(listener: () => void): void {
  try {
    listener();
  } catch {
    // ignored
  }
}
