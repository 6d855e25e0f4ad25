import type { AxiosInstance } from 'axios';
import { EventEmitter } from 'eventemitter3';
import { inspect } from 'node:util';
import { Attachments, type AbortSignalLike, type BearerSource } from './axios';
import { KeepAlive, RefreshTimer, delay, instant, noop } from './clock';
import { abortedError, asTokenError, disposedError, type TokenError } from './errors';
import { resolveOptions } from './options';
import { nextRefresh, retryIn } from './policy';
import { Gate, backoffMs, withRetry, type RetryPolicy } from './retry';
import type {
  AccessToken, Clock, DisposeOptions, GetTokenOptions, ProviderContext, RefreshReason, StoredToken, TokenManagerEvents,
  TokenManagerOptions, TokenProvider,
} from './types';
import { emitSafely } from './events';
import { Fleet } from './fleet';
import { accessTokenOf } from './token-response';
import { TokenSlot, type Held } from './slot';
import { joinShared } from './waiters';

/** How long dispose waits for a token call in flight before it cuts it off. */
const DISPOSE_GRACE_MS = 1_000;

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
  readonly #retry: RetryPolicy;
  readonly #gate: Gate;
  readonly #attachments: Attachments;
  readonly #timer = new RefreshTimer(() => void this.#refresh('scheduled'));
  readonly #keepAlive = new KeepAlive();
  /** Aborted on dispose: stops back-offs and waits. */
  readonly #closing = new AbortController();
  /** Aborted when dispose gives up on a token call in flight. */
  readonly #calls = new AbortController();
  readonly #slot: TokenSlot;
  #inflight: Promise<Held> | undefined;
  #unauthorizedStreak = 0;
  /** Refreshes failed in a row: each waits longer before its first token call. */
  #failures = 0;
  #closed = false;
  #disposal: Promise<void> | undefined;

  constructor(options: TokenManagerOptions) {
    super();
    const resolved = resolveOptions(options);
    this.#provider = resolved.provider;
    this.#context = resolved.context;
    this.#clock = resolved.clock;
    this.#fleet = new Fleet(resolved.store, resolved.storeKey, resolved.clock, (error) => this.#emitSafely('error', error));
    this.#slot = new TokenSlot(resolved.clock, resolved.policy);
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
    const held = this.#slot.current;
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
    accepted: (gen) => {
      if (gen === this.#slot.gen) this.#unauthorizedStreak = 0;
    },
  }))(this);

  /** The hot path: the token if it may be sent now. In the refresh window, also starts a refresh. */
  #usable(): Held | undefined {
    switch (this.#slot.decide()) {
      case 'use':
        return this.#slot.current;
      case 'refresh':
        // The timer should have started it; it fires late after sleep or a frozen container.
        if (this.#inflight === undefined && !this.#timer.isRetry) void this.#refresh('scheduled');
        return this.#slot.current;
      default:
        return undefined;
    }
  }

  #wait(signal: AbortSignalLike | undefined): Promise<Held> {
    return this.#join(this.#refresh(this.#slot.gen === 0 ? 'initial' : 'scheduled'), signal);
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
    const held = this.#slot.refuse(gen);
    if (held === undefined) return false;
    this.#fleet.invalidate(held.token.accessToken);
    // Back off when new tokens keep being refused (an API that answers 401 for other reasons).
    if (++this.#unauthorizedStreak > 1) this.#gate.closeFor(backoffMs(this.#unauthorizedStreak - 1, this.#retry));
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
    const claim = await this.#fleet.claim((token) => this.#slot.isFresher(token) && this.#fits(token), this.#closing.signal);
    if ('token' in claim) {
      const { baseUrl: _shared, ...token } = claim.token;
      return this.#adopt(accessTokenOf(token), reason);
    }
    try {
      const held = await withRetry(() => this.#attempt(reason), this.#retry, this.#closing.signal);
      this.#failures = 0;
      // Callers need not wait for the store; the lock is held until the token is in it.
      void this.#fleet.publish(held.token, this.#provider.baseUrl).finally(() => claim.lock?.release().catch(noop));
      return held;
    } catch (error) {
      // Consecutive failed refreshes wait longer and longer before the next token call, and the
      // lock stays taken through that pause: no other replica calls in the meantime either.
      this.#gate.closeFor(backoffMs(++this.#failures, this.#retry));
      claim.lock?.release(this.#gate.waitMs()).catch(noop);
      throw error;
    }
  }

  async #attempt(reason: RefreshReason): Promise<Held> {
    await this.#gate.wait(this.#closing.signal);
    // Token and revoke calls of a refresh can be cut short by dispose.
    const context = { ...this.#context, signal: this.#calls.signal };
    try {
      if (this.#provider.reusesTokens) await this.#revokeBeforeRotation(context);
      return this.#adopt(await this.#provider.fetchToken(context), reason);
    } catch (error) {
      const failure = asTokenError(error);
      if (failure.retryAfterMs !== undefined) this.#gate.closeFor(failure.retryAfterMs);
      throw failure;
    }
  }

  /**
   * The endpoint hands out the same token until it is revoked (OneLogin), so revoke the old one
   * first. It is served until the revoke returns; a request the API refuses in between is replayed
   * with the new token. A rotation therefore stalls requests for one token call at most.
   */
  async #revokeBeforeRotation(context: ProviderContext): Promise<void> {
    const revokeToken = this.#provider.revokeToken;
    const old = this.#slot.toRevoke();
    if (revokeToken === undefined || old === undefined) return;
    try {
      await revokeToken.call(this.#provider, old.held.token, context);
    } catch (error) {
      // Still valid and still served: keep it, and let the retry policy try the rotation again.
      // A token the API already refused is not worth a retry.
      if (old.live) throw error;
    }
    this.#slot.revoked(old.held);
    this.#fleet.invalidate(old.held.token.accessToken);
  }

  /**
   * A stored token is for the API base URL we use, or for one we may switch to (a replica that
   * did CrowdStrike's region discovery). Anything else is fetched anew rather than sent astray.
   */
  #fits(token: StoredToken): boolean {
    const url = token.baseUrl;
    if (url === undefined || url === this.#provider.baseUrl) return true;
    this.#provider.adoptBaseUrl?.(url);
    return this.#provider.baseUrl === url;
  }

  #adopt(token: AccessToken, reason: RefreshReason): Held {
    const { held, renewed } = this.#slot.put(token, this.#provider.name);
    if (renewed && !this.#closed) this.#emitSafely('refresh', token, reason);
    return held;
  }

  #schedule(held: Held): void {
    if (this.#closed || this.#slot.current !== held) return;
    const next = nextRefresh(held.plan, instant(this.#clock), this.#retry.minTimeout, this.#fleet.shared ? Math.random() : 0);
    this.#timer.arm(next.inMs, next.closingIn);
  }

  #failed(error: TokenError): void {
    if (this.#closed) return;
    this.#emitSafely('error', error);
    // Nothing to protect without a token: the next caller starts the next try.
    const held = this.#slot.current;
    const next = held && retryIn(held.plan, instant(this.#clock), this.#retry.minTimeout, this.#retry.maxTimeout);
    if (next !== undefined) this.#timer.arm(next, true);
  }

  #join(shared: Promise<Held>, signal: AbortSignalLike | undefined): Promise<Held> {
    return joinShared(shared, signal, this.#keepAlive, (error) => (this.#closed ? disposedError() : asTokenError(error)));
  }

  async #shutdown(revoke: boolean): Promise<void> {
    this.#closed = true;
    this.#timer.cancel();
    this.#attachments.detachAll();
    this.#closing.abort(disposedError());
    // A back-off stops at once. A token call in flight may finish, for a second at most, so its
    // token is not orphaned (it is adopted, then revoked below); a hung one is cut off.
    const inflight = this.#inflight?.catch(noop);
    if (inflight !== undefined) {
      if (!(await Promise.race([inflight.then(() => true), delay(DISPOSE_GRACE_MS).then(() => false)]))) this.#calls.abort(disposedError());
      await inflight;
    }
    const held = this.#slot.current;
    const live = this.#slot.decide() !== 'must-refresh';
    this.#slot.current = undefined;
    const revokeToken = this.#provider.revokeToken;
    if (revoke && held !== undefined && revokeToken !== undefined && live) {
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

  #emitSafely<E extends keyof TokenManagerEvents>(event: E, ...args: Parameters<TokenManagerEvents[E]>): void {
    emitSafely(this, event, ...args);
  }
}
