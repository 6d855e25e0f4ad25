// The manager's side of the token store: every call bounded by a timeout, a failing store turned
// into an outage (one `error` event, each process on its own token meanwhile), and the single
// flight across everyone who shares the store.
import { Arrivals } from './arrivals';
import { noop, sleep, unrefInterval, unrefTimer } from './clock';
import { TokenError } from '../errors';
import type { TokenLife } from './lifecycle';
import type { Keyring, SharedToken } from './seal';
import { accessTokenOf } from './token';
import type { Clock, StoreLock, TokenStore } from '../types';

/** A store call that takes longer than this counts as a failure: a slow store must not slow a refresh. */
export const STORE_TIMEOUT_MS = 1_000;
/** While the store is down, a probe asks it at most this often whether it is back. */
const PROBE_DOWN_MS = 1_000;
const FIRST_POLL_MS = 25;
const MAX_POLL_MS = 250;
/**
 * Waiting for the lock holder's token while watching the store: a read this often all the same,
 * for a notice that is lost (no SUBSCRIBE in the ACL, a reconnecting subscriber) and for a holder
 * that died (its lease runs out unannounced).
 */
const HEARD_POLL_MS = 500;

/**
 * A manager acts on another replica's notice that the shared token is gone at most this often: a
 * forged notice (anyone who can write to the store can send one) costs the fleet at most one token
 * call per this long. A second revocation sooner than this costs each replica its own 401, as
 * without notices.
 */
export const PEER_NOTICE_GAP_MS = 30_000;

/** Either a token someone else fetched, or the go-ahead to fetch one (with the lock, when there is one). */
export type Claim = { readonly shared: SharedToken } | { readonly lock: StoreLock | undefined };

type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false };

export class Fleet {
  readonly #store: TokenStore;
  readonly #keys: Keyring;
  readonly #clock: Required<Clock>;
  readonly #onOutage: (error: TokenError) => void;
  /** Set while the store is failing: refreshes then skip it (no waiting) and a probe watches it. */
  #down = false;
  #probing = false;
  #lastProbe = -Infinity;
  /**
   * While down, a background probe runs once a second (unref'd: it never keeps the process alive),
   * so the next refresh round shares again even when no refresh asked the store in between.
   */
  #prober: NodeJS.Timeout | undefined;
  #disposed = false;
  /** The token this manager serves, and the refresh that replaces it, for notices from the other replicas. */
  readonly #life: TokenLife | undefined;
  readonly #replace: () => Promise<unknown>;
  #unwatch: (() => void) | undefined;
  #lastNotice = -Infinity;
  /** The tag of a token dropped on a notice: the next claim takes it back if the store still holds it. */
  #doubted: string | undefined;
  /** Tokens heard arriving in the store, and whoever waits for the next. */
  readonly #arrivals = new Arrivals();

  constructor(
    store: TokenStore,
    keys: Keyring,
    clock: Required<Clock>,
    onOutage: (error: TokenError) => void,
    life?: TokenLife,
    replace?: () => Promise<unknown>,
  ) {
    this.#store = store;
    this.#keys = keys;
    this.#clock = clock;
    this.#onOutage = onOutage;
    this.#life = life;
    this.#replace = replace ?? (() => Promise.resolve());
  }

  /** The store is shared with other processes. */
  get shared(): boolean {
    return this.#store.shared === true;
  }

  /**
   * The shared token, if there is one this credential sealed. Anything else under our key (another
   * secret's entry, an older format, an entry without expiry) is treated as no token, and is
   * replaced by the next one we publish.
   */
  async #read(): Promise<SharedToken | undefined> {
    const outcome = await this.#call(() => this.#store.get(this.#keys.key));
    const entry = outcome.ok ? outcome.value : undefined;
    if (entry === undefined || !(entry.ttlMs > 0)) return undefined;
    const shared = this.#keys.open(entry);
    if (shared === undefined) return undefined;
    // The entry's TTL counts on the store's clock: the token dies no later than the entry does.
    const until = this.#clock.now() + entry.ttlMs;
    if (shared.token.expiresAt <= until) return shared;
    return { ...shared, token: accessTokenOf({ ...shared.token, expiresAt: until }) };
  }

  /** Share a token (with the base URL it belongs to, CrowdStrike's discovered cloud). */
  async publish(shared: SharedToken): Promise<void> {
    const ttl = shared.token.expiresAt - this.#clock.now();
    if (ttl > 0) await this.#call(() => this.#store.set(this.#keys.key, this.#keys.seal(shared), ttl));
  }

  /** Drop `accessToken` from the store, if it is still the one there (a newer token stays). */
  invalidate(accessToken: string): void {
    void this.#call(() => this.#store.delete(this.#keys.key, this.#keys.tagFor(accessToken)));
  }

  /**
   * Wait for our turn to refresh: a `fresh` token someone else put in the store ends the wait;
   * otherwise whoever takes the lock fetches. The wait lasts while someone holds the lock, for
   * `patienceMs` at most: a holder that hangs (or holds the lock through a pause longer than that)
   * is then left to it, and the caller fetches on its own. Without a lock, or without a working
   * store, the caller fetches on its own at once.
   */
  async claim(fresh: (shared: SharedToken) => boolean, signal: AbortSignal, patienceMs: number): Promise<Claim> {
    this.#watch();
    // Only while the token dropped on the notice is still the one retired (no other came since).
    const doubted = this.#doubted !== undefined && this.#retiredTag() === this.#doubted ? this.#doubted : undefined;
    this.#doubted = undefined;
    // A token dropped on a notice that the store contradicts is ours again (the same token: no 'refresh' event).
    const worth = doubted === undefined ? fresh : (shared: SharedToken) => fresh(shared) || this.#keys.tagFor(shared.token.accessToken) === doubted;
    const giveUpAt = this.#clock.monotonic() + patienceMs;
    for (let delay = FIRST_POLL_MS; ; delay = Math.min(delay * 2, MAX_POLL_MS)) {
      const heard = this.#arrivals.count;
      const readAt = this.#clock.monotonic();
      const shared = await this.#read();
      if (shared !== undefined && worth(shared)) return { shared };
      if (this.#store.lock === undefined || this.#down) return { lock: undefined };
      const attempt = this.#store.lock(this.#keys.key);
      const taken = await this.#call(() => attempt);
      if (!taken.ok) {
        // A lock that arrives after we gave up (a reconnecting client runs queued commands) would
        // be held, and renewed, by no one: give it back when it comes.
        attempt.then((late) => late?.release(), noop).catch(noop);
        return { lock: undefined };
      }
      if (taken.value !== undefined) {
        // The last holder may have published between our read and our lock.
        const again = await this.#read();
        if (again !== undefined && worth(again)) {
          taken.value.release().catch(noop);
          return { shared: again };
        }
        return { lock: taken.value };
      }
      const left = giveUpAt - this.#clock.monotonic();
      if (left <= 0) return { lock: undefined };
      // Watching the store, the holder's token is heard as it arrives (or a store write since this
      // turn began ends the wait at once); the poll is then only the fallback for a lost notice.
      if (!this.#hearing) await sleep(Math.min(delay, left), signal);
      else if (await this.#arrivals.after(heard, Math.min(HEARD_POLL_MS, left), signal)) {
        // Woken by a notice: one read per FIRST_POLL_MS at most, however many notices come (anyone
        // who can publish to the Redis can send them); the holder's real one is rarely that quick.
        await sleep(Math.min(readAt + FIRST_POLL_MS - this.#clock.monotonic(), left), signal);
      }
    }
  }

  async #call<T>(operation: () => Promise<T>): Promise<Outcome<T>> {
    if (this.#down) {
      this.#probe();
      return { ok: false };
    }
    try {
      return { ok: true, value: await withTimeout(operation(), STORE_TIMEOUT_MS) };
    } catch (error) {
      if (!this.#down) {
        this.#down = true;
        this.#startProber();
        const why = error instanceof Error ? error.message : String(error);
        this.#onOutage(
          new TokenError('store_unavailable', `the token store failed (${why.slice(0, 200)}); each process uses its own token until the store answers again`),
        );
      }
      return { ok: false };
    }
  }

  /** The store is being treated as down (refreshes skip it; the probe watches it). */
  get down(): boolean {
    return this.#down;
  }

  /** Stop the background probe: a disposed manager leaves no timer behind. */
  dispose(): void {
    this.#disposed = true;
    this.#stopProber();
    this.#unwatch?.();
    this.#unwatch = undefined;
  }

  /** Hear other replicas' tokens arrive and their tagged deletes (from the first refresh on, until dispose). */
  #watch(): void {
    if (this.#unwatch !== undefined || this.#disposed || this.#life === undefined || !this.shared || this.#store.watch === undefined) return;
    try {
      this.#unwatch = this.#store.watch(this.#keys.key, (notice) => (notice.kind === 'set' ? this.#arrivals.heard() : this.#noticed(notice.tag)));
    } catch {
      this.#unwatch = noop; // a store that cannot watch: each replica learns from its own 401
    }
  }

  /** The tag of the token the API (or a notice) retired, if it is still the last one retired. */
  #retiredTag(): string | undefined {
    const retired = this.#life?.value.retired;
    return retired === undefined ? undefined : this.#keys.tagFor(retired.held.token.accessToken);
  }

  /** Whether the store tells us of new tokens. */
  get #hearing(): boolean {
    return this.#unwatch !== undefined && this.#unwatch !== noop;
  }

  /**
   * Another replica deleted the token tagged `tag` (the API refused it, or it was revoked). If it is
   * ours, drop it at once, as if the 401 were ours, and refresh: the store first, where that replica
   * puts the successor. A notice for another token is ignored. One for ours is believed only as far
   * as the store agrees: a real delete happens before its notice, so if the store still holds that
   * very token (a forged or stale notice), the refresh takes it back, with no token call. Acting on
   * a notice waits PEER_NOTICE_GAP_MS for the next, so a forged delete-and-notice costs at most one
   * token call for the fleet per gap.
   */
  #noticed(tag: string): void {
    const life = this.#life;
    const held = life?.held;
    // With the store down, the token could not be taken back from it if the notice were wrong.
    if (life === undefined || held === undefined || life.disposed || this.#disposed || this.#down) return;
    if (this.#clock.monotonic() - this.#lastNotice < PEER_NOTICE_GAP_MS || tag !== this.#keys.tagFor(held.token.accessToken)) return;
    this.#lastNotice = this.#clock.monotonic();
    this.#doubted = tag;
    life.apply({ type: 'refused', gen: held.gen });
    // The manager reports a failed refresh itself (its `error` event).
    this.#replace().catch(noop);
  }

  #startProber(): void {
    if (this.#prober !== undefined || this.#disposed) return;
    this.#prober = unrefInterval(() => this.#probe(), PROBE_DOWN_MS);
  }

  #stopProber(): void {
    clearInterval(this.#prober);
    this.#prober = undefined;
  }

  /** One read at a time, at most once a second, off the refresh path: the first answer ends the outage. */
  #probe(): void {
    const now = this.#clock.monotonic();
    if (this.#probing || this.#disposed || now - this.#lastProbe < PROBE_DOWN_MS * 0.9) return;
    this.#probing = true;
    this.#lastProbe = now;
    withTimeout(this.#store.get(this.#keys.key), STORE_TIMEOUT_MS)
      .then(() => {
        this.#down = false;
        this.#stopProber();
      }, noop)
      .finally(() => void (this.#probing = false));
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<never>((_, reject) => {
    timer = unrefTimer(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, expiry]).finally(() => clearTimeout(timer));
}
