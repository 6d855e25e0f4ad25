import type { AxiosInstance } from 'axios';
import { EventEmitter } from 'eventemitter3';
import { inspect } from 'node:util';
import { Attachments, type AbortSignalLike, type BearerSource } from './axios';
import { KeepAlive, RefreshTimer, delay, instant, linkedAbort, noop, untilAborted } from './clock';
import { TokenError, abortedError, asTokenError, disposedError } from './errors';
import { resolveOptions } from './options';
import { Pacer } from './pacer';
import { nextRefresh, retryIn } from './policy';
import { withRetry, type RetryPolicy } from './retry';
import type { SharedToken } from './seal';
import type {
  AccessToken, Clock, DisposeOptions, GetTokenOptions, ProviderContext, RefreshReason, TokenManagerEvents,
  TokenManagerOptions, TokenProvider,
} from './types';
import { emitSafely } from './events';
import { Fleet } from './fleet';
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
  readonly #pacer: Pacer;
  readonly #attemptTimeoutMs: number;
  readonly #refreshTimeoutMs: number;
  readonly #attachments: Attachments;
  readonly #timer = new RefreshTimer(() => void this.#refresh('scheduled'));
  readonly #keepAlive = new KeepAlive();
  /** Aborted on dispose: stops back-offs and waits. */
  readonly #closing = new AbortController();
  /** Aborted when dispose gives up on a token call in flight. */
  readonly #calls = new AbortController();
  readonly #slot: TokenSlot;
  #inflight: Promise<Held> | undefined;
  #closed = false;
  #disposal: Promise<void> | undefined;

  constructor(options: TokenManagerOptions) {
    super();
    const resolved = resolveOptions(options);
    this.#provider = resolved.provider;
    this.#context = resolved.context;
    this.#clock = resolved.clock;
    this.#fleet = new Fleet(resolved.store, resolved.keys, resolved.clock, (error) => this.#emitSafely('error', error));
    this.#slot = new TokenSlot(resolved.clock, resolved.policy);
    this.#retry = resolved.retry;
    this.#pacer = new Pacer(resolved.clock, resolved.retry, () => Math.random());
    this.#attemptTimeoutMs = resolved.attemptTimeoutMs;
    this.#refreshTimeoutMs = resolved.refreshTimeoutMs;
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

  /**
   * Stop timers, let a token call in flight finish, revoke, emit `dispose`. Attached instances keep
   * a guard that rejects requests bound for the API with `disposed` until `detach()` or another
   * manager's `attach()`.
   */
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
    const state = this.#closed ? 'disposed' : held ? `token expires ${isoTime(held.token.expiresAt)}` : 'no token';
    return `TokenManager { provider: '${this.#provider.name}', baseUrl: ${JSON.stringify(this.baseUrl)}, ${state} }`;
  }

  toJSON(): object {
    return { provider: this.#provider.name, baseUrl: this.baseUrl, disposed: this.#closed };
  }

  readonly #source: BearerSource = ((manager) => ({
    get baseUrl() {
      return manager.baseUrl;
    },
    usable: () => (this.#closed ? undefined : this.#usable()),
    wait: (signal) => (this.#closed ? Promise.reject(disposedError()) : this.#wait(signal)),
    rejected: (gen, signal) => this.#refused(gen, signal),
    accepted: (gen) => {
      if (gen === this.#slot.gen) this.#pacer.tokenAccepted();
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
    this.#pacer.tokenRefused();
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

  /**
   * One refresh, bounded as a whole by refreshTimeoutMs: it then rejects with `timeout` (naming the
   * last failure), its token call in flight is cut off, and a fleet's lock is given up.
   */
  async #run(reason: RefreshReason): Promise<Held> {
    let last: TokenError | undefined;
    const deadline = linkedAbort([], this.#refreshTimeoutMs, () => refreshTimedOut(this.#refreshTimeoutMs, last));
    // Waits and pauses stop at dispose; a token call in flight gets its grace (see #shutdown).
    const waits = linkedAbort([this.#closing.signal, deadline.signal]);
    try {
      // A fresher token that another manager or replica put in the store beats a token call;
      // otherwise the holder of the store's lock fetches one for everyone who shares it.
      const claim = await this.#fleet.claim((shared) => this.#slot.isFresher(shared.token) && this.#fits(shared), waits.signal, this.#refreshTimeoutMs / 2);
      if ('shared' in claim) return this.#adopt(claim.shared.token, reason);
      try {
        const attempt = () => this.#attempt(reason, waits.signal, deadline.signal).catch((error: unknown) => {
          last = asTokenError(error);
          throw last;
        });
        const held = await withRetry(attempt, this.#retry, waits.signal, (n) => this.#pacer.attemptFailed(n));
        this.#pacer.refreshSucceeded();
        // Callers need not wait for the store; the lock is held until the token is in it.
        void this.#fleet.publish({ token: held.token, baseUrl: this.#provider.baseUrl }).finally(() => claim.lock?.release().catch(noop));
        return held;
      } catch (error) {
        // Disposed mid-refresh: not a failure of the endpoint, and nobody should wait on our lock.
        if (this.#closed) {
          claim.lock?.release().catch(noop);
          throw error;
        }
        // Consecutive failed refreshes wait longer and longer before the next token call, and the
        // lock stays taken through that pause: no other replica calls in the meantime either.
        this.#pacer.refreshFailed();
        claim.lock?.release(this.#pacer.waitMs(false)).catch(noop);
        throw error;
      }
    } finally {
      deadline.clear();
      waits.clear();
    }
  }

  /** One token call (after the pause the pacer asks for), cut off at attemptTimeoutMs. */
  async #attempt(reason: RefreshReason, waits: AbortSignal, deadline: AbortSignal): Promise<Held> {
    await this.#pacer.wait(waits, () => this.#keepAlive.holding);
    const ms = this.#attemptTimeoutMs;
    const call = linkedAbort([this.#calls.signal, deadline], ms, () => new TokenError('timeout', `${this.#provider.name} token call got no complete answer within ${ms} ms (attemptTimeoutMs)`));
    const context: ProviderContext = { ...this.#context, signal: call.signal };
    try {
      if (this.#provider.reusesTokens) await this.#revokeBeforeRotation(context);
      return this.#adopt(await untilAborted(this.#provider.fetchToken(context), call.signal), reason);
    } catch (error) {
      const failure = asTokenError(error);
      if (failure.retryAfterMs !== undefined) this.#pacer.hint(failure.retryAfterMs);
      throw failure;
    } finally {
      call.clear();
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
      await untilAborted(revokeToken.call(this.#provider, old.held.token, context), context.signal!);
    } catch (error) {
      // Still valid and still served: keep it, and let the retry policy try the rotation again.
      if (old.live) throw error;
      // Refused by the API already. A transient failure is tried again (the endpoint would hand it
      // back until it is revoked); a refusal means the server no longer knows it.
      if (asTokenError(error).retryable) throw error;
    }
    this.#slot.revoked(old.held);
    this.#fleet.invalidate(old.held.token.accessToken);
  }

  /**
   * A stored token is for the API base URL we use, or for one we may switch to (a replica that
   * did CrowdStrike's region discovery). Anything else is fetched anew rather than sent astray.
   */
  #fits(shared: SharedToken): boolean {
    const url = shared.baseUrl;
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
    const joined = joinShared(shared, signal, this.#keepAlive, (error) => (this.#closed ? disposedError() : asTokenError(error)));
    // A caller now waits: a pause meant for background refreshes may be over for it.
    this.#pacer.nudge();
    return joined;
  }

  async #shutdown(revoke: boolean): Promise<void> {
    this.#closed = true;
    this.#timer.cancel();
    this.#attachments.retireAll();
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
      const ms = this.#attemptTimeoutMs;
      const call = linkedAbort([], ms, () => new TokenError('timeout', `${this.#provider.name} revoke call got no complete answer within ${ms} ms (attemptTimeoutMs)`));
      try {
        await untilAborted(revokeToken.call(this.#provider, held.token, { ...this.#context, signal: call.signal }), call.signal);
        this.#fleet.invalidate(held.token.accessToken);
        this.#emitSafely('revoke', held.token);
      } catch (error) {
        this.#emitSafely('error', asTokenError(error));
      } finally {
        call.clear();
      }
    }
    this.#emitSafely('dispose');
    this.removeAllListeners();
  }

  #emitSafely<E extends keyof TokenManagerEvents>(event: E, ...args: Parameters<TokenManagerEvents[E]>): void {
    emitSafely(this, event, ...args);
  }
}

function refreshTimedOut(ms: number, last: TokenError | undefined): TokenError {
  const why = last === undefined ? '' : `; the last attempt failed with ${last.code}`;
  return new TokenError('timeout', `no token within ${ms} ms (refreshTimeoutMs)${why}`, last === undefined ? {} : { cause: last });
}

/** An epoch-ms moment as ISO text, or the number when no Date can hold it. */
function isoTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}
