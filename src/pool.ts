// Many tokens from one credential: a TokenManager per key (a CrowdStrike MSSP's child CID, an
// audience, a resource), made on first use, disposed (revoked) after `idleMs` without use, all
// under one token-endpoint budget. Each child is a full manager with its own identity: its own
// store key, single flight, refresh timer and errors.
import { EventEmitter } from 'eventemitter3';
import { TokenBudget } from './core/budget';
import { unrefInterval } from './core/clock';
import { emitSafely } from './core/events';
import { ConfigError, disposedError, type TokenError } from './errors';
import { asyncDispose } from './core/disposal';
import { BUSY, TokenManager, USES } from './manager';
import { OPTIONS as MANAGER_OPTIONS, resolveOptions } from './options';
import { checkOptions } from './utils/options-check';
import { createTokenHttp } from './transport/http';
import { DEFAULT_REFRESH_WINDOW_MS } from './core/policy';
import type { AccessToken, DisposeOptions, RefreshReason, TokenHealth, TokenManagerOptions, TokenProvider, TokenStatus } from './types';

export interface TokenPoolOptions extends Omit<TokenManagerOptions, 'provider'> {
  /** The provider of one child, made on its first use: `(memberCid) => crowdstrike({ ..., memberCid })`. */
  provider: (key: string) => TokenProvider;
  /** A child unused this long is disposed (its token revoked) and made anew on its next use. Default 15 minutes. */
  idleMs?: number;
}

export interface TokenPoolEvents {
  refresh: (key: string, token: AccessToken, reason: RefreshReason) => void;
  error: (key: string, error: TokenError) => void;
  /** A child was disposed for being idle. */
  evict: (key: string) => void;
}

/** What `TokenPool.status()` returns: every child's status, and the worst of them. */
export interface TokenPoolStatus {
  /** The worst child's (`failed`, `degraded`, `starting`, `refreshing`, `ready`); `ready` with no children yet. */
  readonly state: TokenHealth;
  readonly children: number;
  /** How many children are in each state. */
  readonly states: Readonly<Record<TokenHealth, number>>;
  /** Each child's status, by the key it was made for. */
  readonly keys: Readonly<Record<string, TokenStatus>>;
}

/** Without a budget of the user's, a pool keeps its children under CrowdStrike's per-IP limit with room to spare. */
export const DEFAULT_POOL_BUDGET = { perMinute: 250, concurrency: 8 } as const;
export const DEFAULT_IDLE_MS = 15 * 60_000;
/**
 * Children asked for together wait their turns in the budget: 1,000 at 250 a minute take 4
 * minutes. A child's refresh may take this long unless `refreshTimeoutMs` says otherwise (its
 * attempts still give up after their retries, as a lone manager's do).
 */
export const DEFAULT_POOL_REFRESH_TIMEOUT_MS = 5 * 60_000;
const POOL_OPTIONS = [...MANAGER_OPTIONS, 'idleMs'];
/** A pool is as healthy as its sickest child. */
const WORST_FIRST: readonly TokenHealth[] = ['failed', 'degraded', 'starting', 'refreshing', 'ready'];
/** Stands in for the children's providers while their shared options are checked. */
const PROBE: TokenProvider = {
  name: 'pool',
  baseUrl: undefined,
  identity: 'tokenwarden pool options check',
  fetchToken: () => Promise.reject(new Error('never called')),
  storeSecret: () => 'probe',
};
/** Keys are names (CIDs, audiences), not documents. */
const MAX_KEY_LENGTH = 512;

interface Child {
  readonly manager: TokenManager;
  /** The use count at the last sweep, and since when it has stood still. */
  uses: number;
  idleSince: number;
}

export class TokenPool extends EventEmitter<TokenPoolEvents> {
  readonly #children = new Map<string, Child>();
  readonly #factory: (key: string) => TokenProvider;
  readonly #options: Omit<TokenManagerOptions, 'provider'>;
  readonly #idleMs: number;
  readonly #random: () => number;
  readonly #now: () => number;
  #sweeper: NodeJS.Timeout | undefined;
  #disposed: Promise<void> | undefined;
  /** Evicted children still disposing (revoking): dispose() waits for them too. */
  readonly #evicting = new Set<Promise<void>>();
  /** At most this many evictions a sweep: their revokes must not fill the budget's window. */
  readonly #evictionsPerSweep: number;

  constructor(options: TokenPoolOptions) {
    super();
    const { provider, idleMs, ...shared } = options ?? ({} as TokenPoolOptions);
    checkOptions(options, POOL_OPTIONS, 'TokenPool');
    if (typeof provider !== 'function')
      throw new ConfigError(
        'provider',
        'TokenPool: provider must be a function of the key, e.g. (memberCid) => crowdstrike({ clientId, clientSecret, memberCid })',
      );
    if (idleMs !== undefined && !(typeof idleMs === 'number' && idleMs > 0))
      throw new ConfigError('idleMs', `TokenPool: idleMs must be a positive number of ms (got ${typeof idleMs === 'number' ? idleMs : typeof idleMs})`);
    if (shared.budget !== undefined && !(shared.budget instanceof TokenBudget))
      throw new ConfigError('budget', 'TokenPool: budget must come from tokenBudget({ perMinute, concurrency })');
    this.#factory = provider;
    this.#random = shared.random ?? Math.random;
    this.#idleMs = idleMs ?? DEFAULT_IDLE_MS;
    // One budget and one token-call instance for every child (an axios instance is most of a manager's weight).
    this.#options = {
      ...shared,
      budget: shared.budget ?? new TokenBudget({ ...DEFAULT_POOL_BUDGET, ...(shared.clock && { clock: shared.clock }) }),
      http: shared.http ?? createTokenHttp(),
      refreshTimeoutMs: shared.refreshTimeoutMs ?? DEFAULT_POOL_REFRESH_TIMEOUT_MS,
    };
    // Every child's options are checked now, not at the first get().
    resolveOptions({ ...this.#options, provider: PROBE });
    this.#evictionsPerSweep = Math.max(1, Math.floor(this.#options.budget!.perMinute / 10));
    const clock = shared.clock;
    this.#now = clock?.monotonic ? () => clock.monotonic!() : clock ? () => clock.now() : () => performance.now();
  }

  /** The child for `key`, made on first use. O(1). */
  get(key: string): TokenManager {
    if (this.#disposed !== undefined) throw disposedError();
    const child = this.#children.get(key);
    if (child !== undefined) {
      child.idleSince = this.#now();
      return child.manager;
    }
    return this.#make(key);
  }

  /** The keys of the children alive now. */
  keys(): string[] {
    return [...this.#children.keys()];
  }

  get size(): number {
    return this.#children.size;
  }

  /** Each child's status and the worst of them, for a readiness probe (see TokenPoolStatus). */
  status(): TokenPoolStatus {
    const states: Record<TokenHealth, number> = { starting: 0, ready: 0, refreshing: 0, degraded: 0, failed: 0, disposed: 0 };
    const keys: Record<string, TokenStatus> = {};
    for (const [key, child] of this.#children) {
      const status = child.manager.status();
      keys[key] = status;
      states[status.state]++;
    }
    const state = this.#disposed !== undefined ? 'disposed' : (WORST_FIRST.find((health) => states[health] > 0) ?? 'ready');
    return { state, children: this.#children.size, states, keys };
  }

  /** Dispose every child (revoking its token, as `TokenManager.dispose` does) and refuse new ones. */
  dispose(options?: DisposeOptions): Promise<void> {
    this.#disposed ??= (async () => {
      if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
      const children = [...this.#children.values()];
      this.#children.clear();
      await Promise.all([...children.map((child) => child.manager.dispose(options)), ...this.#evicting]);
      this.removeAllListeners();
    })();
    return this.#disposed;
  }

  [asyncDispose](): Promise<void> {
    return this.dispose();
  }

  #make(key: string): TokenManager {
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH)
      throw new ConfigError('key', `TokenPool.get: a key must be a non-empty string of at most ${MAX_KEY_LENGTH} characters`);
    let provider: TokenProvider;
    try {
      provider = this.#factory(key);
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      // Not quoted: a factory's message may hold what it was given.
      throw new ConfigError('provider', `TokenPool: the provider factory threw ${error instanceof Error ? `a ${error.name}` : typeof error} for a key`);
    }
    // Children made together would all refresh in the same minute: each gets a window up to half
    // as long again, so their refreshes spread over a quarter of a window or more.
    const window = this.#options.refreshWindowMs ?? DEFAULT_REFRESH_WINDOW_MS;
    const manager = new TokenManager({ ...this.#options, provider, refreshWindowMs: Math.round(window * (1 + 0.5 * this.#random())) });
    manager.on('refresh', (token, reason) => this.#emit('refresh', key, token, reason));
    manager.on('error', (error) => this.#emit('error', key, error));
    this.#children.set(key, { manager, uses: manager[USES], idleSince: this.#now() });
    this.#sweeper ??= unrefInterval(() => void this.#sweep(), Math.min(60_000, Math.max(1_000, this.#idleMs / 4)));
    return manager;
  }

  /** One pass over the children: those whose use count stood still for idleMs go. */
  async #sweep(): Promise<void> {
    const now = this.#now();
    const idle: [string, Child][] = [];
    for (const entry of this.#children) {
      const [, child] = entry;
      const uses = child.manager[USES];
      // Attached to an instance (which stays bound to it) or refreshing for callers: in use.
      if (uses !== child.uses || child.manager[BUSY]) {
        child.uses = uses;
        child.idleSince = now;
      } else if (now - child.idleSince >= this.#idleMs && idle.length < this.#evictionsPerSweep) idle.push(entry);
    }
    for (const [key] of idle) {
      this.#children.delete(key);
      this.#emit('evict', key);
    }
    if (this.#children.size === 0 && this.#sweeper !== undefined) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
    for (const [, child] of idle) {
      const disposing = child.manager.dispose();
      this.#evicting.add(disposing);
      void disposing.finally(() => this.#evicting.delete(disposing));
    }
    await Promise.all(this.#evicting);
  }

  #emit<E extends keyof TokenPoolEvents>(event: E, ...args: Parameters<TokenPoolEvents[E]>): void {
    emitSafely(this, event, ...args);
  }
}
