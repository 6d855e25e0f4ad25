// Where the current token lives: a private memory store, or one a fleet shares (Redis).

/** A sealed token as a store keeps it: opaque to the store and to anyone who reads it. */
export interface StoredEntry {
  /** A keyed hash of the access token inside: `delete(key, tag)` removes only the entry holding that token. */
  readonly tag: string;
  /** The token, encrypted under a key derived from the credential (AES-256-GCM). */
  readonly sealed: string;
}

/**
 * Where the current token lives. The manager keeps a local copy for the hot path and talks to the
 * store only when it is time to refresh, so a slow store never slows a request. A store that
 * fails or hangs is treated as absent until it answers again (the `error` event says so once).
 * Keys and entries come from the manager already derived from the credential: a store (and anyone
 * who can read it) learns nothing from them, and an entry it cannot have been given is ignored.
 */
export interface TokenStore {
  /**
   * Shared with other processes (Redis). The manager then jitters its refresh moments, and
   * `dispose()` revokes the token only when asked: other replicas are still using it.
   */
  readonly shared?: boolean;
  /**
   * The entry under `key` with the ms it has left by the store's own clock, or undefined. An entry
   * without a positive `ttlMs` (one that never expires) is ignored: tokenwarden never writes one.
   */
  get(key: string): Promise<(StoredEntry & { readonly ttlMs: number }) | undefined>;
  /** Keep `entry` under `key` for `ttlMs`, replacing what is there. */
  set(key: string, entry: StoredEntry, ttlMs: number): Promise<void>;
  /** Delete `key`; with `tag`, only if the entry there has that tag (a newer token stays). */
  delete(key: string, tag?: string): Promise<void>;
  /**
   * Take the lock that lets one holder (one process in a fleet) refresh the token under `key`, or
   * undefined while another holds it. The store gives the lock a lease, renewed while it is held,
   * so a holder that dies cannot keep it. Optional: without it there is no single flight across
   * holders.
   */
  lock?(key: string): Promise<StoreLock | undefined>;
  /**
   * Call `notice` whenever anyone sharing the store, in any process, sets `key` or deletes it by
   * tag, until the returned function is called. Optional: with it, the first replica whose shared
   * token the API refuses tells the others, who switch before they send it (one 401 for a fleet,
   * not one per replica), and replicas waiting for the lock holder's token hear it arrive instead
   * of polling. Only the tag travels; a notice only ever makes a manager read the store.
   */
  watch?(key: string, notice: (notice: StoreNotice) => void): () => void;
}

/** What a store tells its watchers about a key: a token put there, or one deleted by its tag. */
export interface StoreNotice {
  readonly kind: 'set' | 'deleted';
  /** The entry's tag (`StoredEntry.tag`, a keyed hash of the token): never the token. */
  readonly tag: string;
}

/** A held refresh lock. */
export interface StoreLock {
  /**
   * Give the lock up (only its holder can). With `holdMs`, keep it that much longer instead and
   * let it lapse: a refresh that failed keeps the others from calling the token endpoint through
   * the pause the server asked for.
   */
  release(holdMs?: number): Promise<void>;
}
