import type { AxiosInstance } from 'axios';
import { EventEmitter } from 'eventemitter3';
import { inspect } from 'node:util';
import { Attachments, type AbortSignalLike, type BearerSource, type HeldToken } from './axios';
import { KeepAlive, RefreshTimer, instant, noop } from './clock';
import { TokenError, abortedError, asTokenError, disposedError } from './errors';
import { resolveOptions } from './options';
import { decideByPlan, planFor, type RefreshPolicy, type TokenPlan } from './policy';
import { Gate, withRetry, type RetryPolicy } from './retry';
import type {
  AccessToken, Clock, DisposeOptions, GetTokenOptions, ProviderContext, RefreshReason, TokenManagerEvents,
  TokenManagerOptions, TokenProvider,
} from './types';
import { Fleet } from './fleet';
import { joinShared } from './waiters';

interface Held extends HeldToken {
  readonly token: AccessToken;
  readonly plan: TokenPlan;
  /** What getToken() returns while this token is usable: one promise, not one per call. */
  readonly resolved: Promise<string>;
}

/**
 * Node 20 defines Symbol.asyncDispose as this registered symbol, but only in its main realm (not in
 * vm contexts such as jest's): the registered symbol is the same everywhere.
 */
const asyncDispose: typeof Symbol.asyncDispose = Symbol.asyncDispose ?? (Symbol.for('nodejs.asyncDispose') as typeof Symbol.asyncDispose);

/**
 * Keeps one client-credentials token fresh: cached, refreshed ahead of expiry in the background,
 * fetched once however many callers ask, attached to axios instances, revoked on dispose.
 */
export class TokenManager extends EventEmitter<TokenManagerEvents> implements AsyncDisposable {
  readonly #provider: TokenProvider;
  readonly #context: ProviderContext;
  readonly #clock: Required<Clock>;
  readonly #fleet: Fleet;
  readonly #policy: RefreshPolicy;
  readonly #retry: RetryPolicy;
  readonly #gate: Gate;
  readonly #attachments: Attachments;
  readonly #timer = new RefreshTimer(() => void this.#refresh('scheduled'));
  readonly #keepAlive = new KeepAlive();
  readonly #closing = new AbortController();
  #current: Held | undefined;
  /** The token we stopped serving (refused by the API, or rotated away); `revoked` once we revoked it. */
  #retired: { held: Held; revoked: boolean } | undefined;
  #gen = 0;
  #inflight: Promise<Held> | undefined;
  #unauthorizedStreak = 0;
  #closed = false;
  #disposal: Promise<void> | undefined;

  constructor(options: TokenManagerOptions) {
    super();
    const resolved = resolveOptions(options);
    this.#provider = resolved.provider;
    this.#context = resolved.context;
    this.#clock = resolved.clock;
    this.#fleet = new Fleet(resolved.store, resolved.storeKey, resolved.clock, (error) => this.#emitSafely('error', error));
    this.#policy = resolved.policy;
    this.#retry = resolved.retry;
    this.#gate = new Gate(resolved.clock);
    this.#attachments = new Attachments(this.#source, resolved.extraOrigins, resolved.context.http);
  }

  /** The API base URL (after CrowdStrike region discovery); relative request URLs go here. */
  get baseUrl(): string | undefined {
    return this.#provider.baseUrl;
  }

  /** The current access token; waits for one only when none is usable. */
  getToken(options?: GetTokenOptions): Promise<string> {
    const signal = options?.signal;
    if (this.#closed) return Promise.reject(disposedError());
    if (signal?.aborted) return Promise.reject(abortedError(signal.reason));
    const held = this.#usable();
    if (held !== undefined) return held.resolved;
    return this.#wait(signal).then((fresh) => fresh.token.accessToken);
  }

  /** Fetch a new token now (joining one already being fetched). */
  refresh(): Promise<AccessToken> {
    if (this.#closed) return Promise.reject(disposedError());
    return this.#join(this.#refresh('manual'), undefined).then((held) => held.token);
  }

  /** Put the bearer on `instance`'s requests and replay a request once after a 401. */
  attach(instance: AxiosInstance): () => void {
    if (this.#closed) throw disposedError();
    return this.#attachments.attach(instance);
  }

  /** Detach everywhere, stop timers, let a token call in flight finish, revoke, emit `dispose`. */
  dispose(options?: DisposeOptions): Promise<void> {
    // A token shared through the store is still in use by other replicas: revoke only when asked.
    this.#disposal ??= this.#shutdown(options?.revoke ?? !this.#fleet.shared);
    return this.#disposal;
  }

  [asyncDispose](): Promise<void> {
    return this.dispose();
  }

  [inspect.custom](): string {
    const held = this.#current;
    const state = this.#closed ? 'disposed' : held ? `token expires ${new Date(held.token.expiresAt).toISOString()}` : 'no token';
    return `TokenManager { provider: '${this.#provider.name}', baseUrl: ${JSON.stringify(this.baseUrl)}, ${state} }`;
  }

  toJSON(): object {
    return { provider: this.#provider.name, baseUrl: this.baseUrl, disposed: this.#closed };
  }

  readonly #source: BearerSource = ((manager) => ({
    get baseUrl() {
      return manager.baseUrl;
    },
    usable: () => this.#usable(),
    wait: (signal) => (this.#closed ? Promise.reject(disposedError()) : this.#wait(signal)),
    rejected: (gen, signal) => this.#refused(gen, signal),
    refusedAgain: (gen) => {
      if (!this.#closed && this.#refuse(gen)) void this.#refresh('unauthorized');
    },
    accepted: (gen) => {
      if (gen === this.#gen) this.#unauthorizedStreak = 0;
    },
  }))(this);

  /** The hot path: the token if it may be sent now. In the refresh window, also starts a refresh. */
  #usable(): Held | undefined {
    const held = this.#current;
    if (held === undefined) return undefined;
    switch (decideByPlan(held.plan, this.#clock.now(), this.#clock.monotonic())) {
      case 'use':
        return held;
      case 'refresh':
        // The timer should have started it; it fires late after sleep or a frozen container.
        if (this.#inflight === undefined && !this.#timer.isRetry) void this.#refresh('scheduled');
        return held;
      default:
        return undefined;
    }
  }

  #wait(signal: AbortSignalLike | undefined): Promise<Held> {
    return this.#join(this.#refresh(this.#gen === 0 ? 'initial' : 'scheduled'), signal);
  }

  /** The API refused token `gen`: one refresh for all requests that carried it, then the replay. */
  #refused(gen: number, signal: AbortSignalLike | undefined): Promise<Held> {
    if (this.#closed) return Promise.reject(disposedError());
    if (this.#refuse(gen)) return this.#join(this.#refresh('unauthorized'), signal);
    // That token is already gone; use (or wait for) its successor without a token call.
    const usable = this.#usable();
    return usable ? Promise.resolve(usable) : this.#wait(signal);
  }

  /** Stop serving token `gen` if it is the current one; true if it was. */
  #refuse(gen: number): boolean {
    const held = this.#current;
    if (held === undefined || held.gen !== gen) return false;
    this.#current = undefined;
    this.#retired = { held, revoked: false };
    this.#fleet.invalidate(held.token.accessToken);
    // Back off when new tokens keep being refused (an API that answers 401 for other reasons).
    if (this.#unauthorizedStreak > 0) {
      this.#gate.closeFor(Math.min(this.#retry.maxTimeout, this.#retry.minTimeout * 2 ** (this.#unauthorizedStreak - 1)));
    }
    this.#unauthorizedStreak++;
    return true;
  }

  /** Single flight: every caller during a refresh shares its promise. */
  #refresh(reason: RefreshReason): Promise<Held> {
    if (this.#inflight !== undefined) return this.#inflight;
    if (this.#closed) return Promise.reject(disposedError());
    this.#timer.cancel();
    const run = this.#run(reason);
    this.#inflight = run;
    // Handled here, so a background refresh nobody awaits can never be an unhandled rejection.
    run.then(
      (held) => {
        this.#inflight = undefined;
        this.#schedule(held);
      },
      (error: unknown) => {
        this.#inflight = undefined;
        this.#failed(asTokenError(error));
      },
    );
    return run;
  }

  async #run(reason: RefreshReason): Promise<Held> {
    // A fresher token that another manager or replica put in the store beats a token call;
    // otherwise the holder of the store's lock fetches one for everyone who shares it.
    const claim = await this.#fleet.claim((token) => this.#isFresher(token), this.#closing.signal);
    if ('token' in claim) return this.#adopt(claim.token, reason);
    try {
      const held = await withRetry(() => this.#attempt(reason), this.#retry, this.#closing.signal);
      await this.#fleet.publish(held.token);
      return held;
    } finally {
      claim.lock?.release().catch(noop);
    }
  }

  async #attempt(reason: RefreshReason): Promise<Held> {
    await this.#gate.wait(this.#closing.signal);
    if (this.#provider.reusesTokens) await this.#revokeBeforeRotation();
    let token: AccessToken;
    try {
      token = await this.#provider.fetchToken(this.#context);
    } catch (error) {
      const failure = asTokenError(error);
      if (failure.retryAfterMs !== undefined) this.#gate.closeFor(failure.retryAfterMs);
      throw failure;
    }
    return this.#adopt(token, reason);
  }

  /**
   * The endpoint hands out the same token until it is revoked (OneLogin), so revoke the old one
   * first. It is served until the revoke returns; a request the API refuses in between is replayed
   * with the new token. A rotation therefore stalls requests for one token call at most.
   */
  async #revokeBeforeRotation(): Promise<void> {
    const revokeToken = this.#provider.revokeToken;
    if (revokeToken === undefined) return;
    const current = this.#current;
    const live = current !== undefined && decideByPlan(current.plan, this.#clock.now(), this.#clock.monotonic()) !== 'must-refresh' ? current : undefined;
    const old = live ?? (this.#retired?.revoked === false ? this.#retired.held : undefined);
    if (old === undefined) return;
    try {
      await revokeToken.call(this.#provider, old.token, this.#context);
    } catch (error) {
      // Still valid and still served: keep it, and let the retry policy try the rotation again.
      // A token the API already refused is not worth a retry.
      if (old === live) throw asTokenError(error);
    }
    if (this.#current === old) this.#current = undefined;
    this.#retired = { held: old, revoked: true };
  }

  /** A token from the store is worth adopting: not ours, not one we gave up, and not due for refresh. */
  #isFresher(token: AccessToken): boolean {
    if (token.accessToken === this.#current?.token.accessToken || token.accessToken === this.#retired?.held.token.accessToken) return false;
    const now = instant(this.#clock);
    return decideByPlan(planFor(token, now, this.#policy), now.wall, now.mono) === 'use';
  }

  #adopt(token: AccessToken, reason: RefreshReason): Held {
    const now = instant(this.#clock);
    const plan = planFor(token, now, this.#policy);
    if (decideByPlan(plan, now.wall, now.mono) === 'must-refresh') {
      throw new TokenError('invalid_response', `${this.#provider.name} token arrived with ${Math.max(0, token.expiresAt - now.wall)} ms of life left, too little to use`);
    }
    const previous = this.#current ?? this.#retired?.held;
    const same = previous !== undefined && previous.token.accessToken === token.accessToken;
    const held: Held = { token, plan, gen: same ? previous.gen : ++this.#gen, header: `Bearer ${token.accessToken}`, resolved: Promise.resolve(token.accessToken) };
    this.#current = held;
    this.#retired = undefined;
    if (!same && !this.#closed) this.#emitSafely('refresh', token, reason);
    return held;
  }

  #schedule(held: Held): void {
    if (this.#closed || this.#current !== held) return;
    const now = instant(this.#clock);
    const due = held.plan.refreshAt.remaining(now);
    // Already due right after a refresh: the server handed back a token as old as the last one
    // (same-token reuse). Close in on expiry by halves instead of asking again at once.
    const delay = due > 0 ? due : Math.max(this.#retry.minTimeout, held.plan.useUntil.remaining(now) / 2);
    // Replicas that share a token would all refresh at one moment; spread them over the first
    // quarter of the refresh window (at most 30 s): the first one refreshes, the others find its token.
    const spread = this.#fleet.shared ? Math.random() * Math.min(30_000, (held.plan.useUntil.wall - held.plan.refreshAt.wall) / 4) : 0;
    this.#timer.arm(Math.max(0, delay - spread), false);
  }

  #failed(error: TokenError): void {
    if (this.#closed) return;
    this.#emitSafely('error', error);
    // The next refresh, whoever starts it, waits a little: no tight loop against a failing endpoint.
    this.#gate.closeFor(this.#retry.minTimeout);
    const held = this.#current;
    if (held === undefined) return; // nothing to protect: the next caller starts the next try
    // Try again within one back-off step, and well before the token runs out.
    const left = held.plan.useUntil.remaining(instant(this.#clock));
    if (left > 0) this.#timer.arm(Math.max(this.#retry.minTimeout, Math.min(this.#retry.maxTimeout, left / 2)), true);
  }

  #join(shared: Promise<Held>, signal: AbortSignalLike | undefined): Promise<Held> {
    return joinShared(shared, signal, this.#keepAlive, (error) => (this.#closed ? disposedError() : asTokenError(error)));
  }

  async #shutdown(revoke: boolean): Promise<void> {
    this.#closed = true;
    this.#timer.cancel();
    this.#attachments.detachAll();
    this.#closing.abort(disposedError());
    // p-retry lets a token call in flight finish (its token is adopted, then revoked below) and
    // stops a back-off at once.
    await this.#inflight?.catch(noop);
    const held = this.#current;
    this.#current = undefined;
    const revokeToken = this.#provider.revokeToken;
    if (revoke && held !== undefined && revokeToken !== undefined && held.plan.useUntil.remaining(instant(this.#clock)) > 0) {
      try {
        await revokeToken.call(this.#provider, held.token, this.#context);
        this.#fleet.invalidate(held.token.accessToken);
        this.#emitSafely('revoke', held.token);
      } catch (error) {
        this.#emitSafely('error', asTokenError(error));
      }
    }
    this.#emitSafely('dispose');
    this.removeAllListeners();
  }

  /** A throwing listener must not break the manager's state: its error surfaces on its own. */
  #emitSafely<E extends keyof TokenManagerEvents>(event: E, ...args: Parameters<TokenManagerEvents[E]>): void {
    try {
      (this.emit as (event: E, ...args: unknown[]) => boolean)(event, ...args);
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}
