// The TokenManager: wires the core (the token's life, its refreshes, pacing, the store) to a
// provider and to the integrations. It knows no vendor and no HTTP client of its own.
import type { AxiosInstance } from 'axios';
import { EventEmitter } from 'eventemitter3';
import { inspect } from 'node:util';
import { KeepAlive, RefreshTimer, delay, instant, isoTime, noop } from './core/clock';
import { DISPOSE_GRACE_MS, Disposal, asyncDispose } from './core/disposal';
import { emitSafely } from './core/events';
import { Fleet } from './core/fleet';
import { TokenLife, type Held } from './core/lifecycle';
import { Pacer } from './core/pacer';
import { nextRefresh, retryIn } from './core/policy';
import { revokeAtDispose, runRefresh, type Refresher } from './core/refresh';
import { StatusBook } from './core/status';
import { telemetryFor, type Telemetry } from './telemetry/otel';
import { joinShared, type AbortSignalLike } from './core/waiters';
import { TokenError, abortedError, asTokenError, disposedError } from './errors';
import { Attachments } from './integrations/axios';
import { apiOrigins } from './integrations/destination';
import { bearerFetch } from './integrations/fetch';
import type { BearerSource } from './integrations/source';
import { resolveOptions } from './options';
import type { AccessToken, Clock, DisposeOptions, GetTokenOptions, RefreshReason, TokenManagerEvents } from './types';
import type { FetchLike, TokenManagerOptions, TokenState, TokenStatus } from './types';

/** The key of a manager's use counter, for TokenPool. */
export const USES = Symbol('tokenwarden.uses');
export const BUSY = Symbol('tokenwarden.busy');

/**
 * Keeps one client-credentials token fresh: cached, refreshed ahead of expiry in the background,
 * fetched once however many callers ask, attached to axios instances, revoked on dispose.
 */
export class TokenManager extends EventEmitter<TokenManagerEvents> implements AsyncDisposable {
  readonly #life: TokenLife;
  readonly #refresher: Refresher;
  readonly #disposal = new Disposal();
  readonly #attachments: Attachments;
  readonly #timer: RefreshTimer;
  readonly #keepAlive = new KeepAlive();
  readonly #random: () => number;
  readonly #clock: Required<Clock>;
  readonly #book = new StatusBook();
  readonly #telemetry: Telemetry;
  #inflight: Promise<Held> | undefined;
  #uses = 0;

  constructor(options: TokenManagerOptions) {
    super();
    const resolved = resolveOptions(options);
    const { clock, provider } = resolved;
    this.#random = resolved.random;
    this.#clock = clock;
    this.#timer = new RefreshTimer(() => this.#onTimer(), clock);
    this.#life = new TokenLife(clock, resolved.policy);
    this.#telemetry = telemetryFor(resolved.telemetry, provider.name, () => this.status().expiresInMs);
    const fleet = new Fleet(resolved.store, resolved.keys, clock, (error) => this.#emit('error', error), this.#life, this.#refresh.bind(this, 'unauthorized'));
    this.#refresher = {
      provider,
      context: resolved.context,
      life: this.#life,
      fleet,
      pacer: new Pacer(clock, resolved.retry, resolved.random),
      retry: resolved.retry,
      attemptTimeoutMs: resolved.attemptTimeoutMs,
      refreshTimeoutMs: resolved.refreshTimeoutMs,
      budget: resolved.budget,
      waits: this.#disposal.waits.signal,
      calls: this.#disposal.calls.signal,
      waiting: () => this.#keepAlive.holding,
      adopted: (token, reason, renewed) => {
        if (this.#life.disposed) return;
        this.#book.adopted(reason, clock.now(), renewed);
        if (renewed) this.#emit('refresh', token, reason);
      },
      dropped: (token) => fleet.invalidate(token.accessToken),
      calling: (reason, attempt) => {
        this.#book.tokenCalls++;
        return this.#telemetry.tokenCall(reason, attempt);
      },
    };
    const origins = apiOrigins(() => this.baseUrl, resolved.extraOrigins);
    this.#attachments = new Attachments(this.#source, origins, resolved.context.http);
    this.fetch = bearerFetch(this.#source, origins, resolved.fetch);
  }

  /**
   * `fetch` with the token: the bearer only for the API's origin and `allowedOrigins`, relative URLs
   * under `baseUrl`, one shared refresh and one replay after a 401 (a stream body is sent once).
   * Bound: pass it as is, e.g. as ky's or ofetch's `fetch` option.
   */
  readonly fetch: FetchLike;

  /** The API base URL (after CrowdStrike region discovery); relative request URLs go here. */
  get baseUrl(): string | undefined {
    return this.#refresher.provider.baseUrl;
  }

  /** The current access token; waits for one only when none is usable. */
  getToken(options?: GetTokenOptions): Promise<string> {
    const signal = options?.signal;
    if (this.#life.disposed) return Promise.reject(disposedError());
    if (signal?.aborted) return Promise.reject(abortedError(signal.reason));
    const held = this.#forRequest();
    if (held !== undefined) return held.resolved;
    return this.#wait(signal).then((fresh) => fresh.token.accessToken);
  }

  /** Fetch a new token now (joining one already being fetched). */
  refresh(): Promise<AccessToken> {
    if (this.#life.disposed) return Promise.reject(disposedError());
    return this.#join(this.#refresh('manual'), undefined).then((held) => held.token);
  }

  /** Put the bearer on `instance`'s requests and replay a request once after a 401. */
  attach(instance: AxiosInstance): () => void {
    if (this.#life.disposed) throw disposedError();
    return this.#attachments.attach(instance);
  }

  /**
   * Stop timers, let a token call in flight finish, revoke, emit `dispose`. Attached instances keep
   * a guard that rejects requests bound for the API with `disposed` until `detach()` or another
   * manager's `attach()`.
   */
  dispose(options?: DisposeOptions): Promise<void> {
    // A token shared through the store is still in use by other replicas: revoke only when asked.
    this.#disposal.done ??= this.#shutdown(options?.revoke ?? !this.#refresher.fleet.shared);
    return this.#disposal.done;
  }

  [asyncDispose](): Promise<void> {
    return this.dispose();
  }

  [inspect.custom](): string {
    const held = this.#life.held;
    const state = this.#life.disposed ? 'disposed' : held ? `token expires ${isoTime(held.token.expiresAt)}` : 'no token';
    return `TokenManager { provider: '${this.#refresher.provider.name}', baseUrl: ${JSON.stringify(this.baseUrl)}, ${state} }`;
  }

  toJSON(): object {
    return { provider: this.#refresher.provider.name, baseUrl: this.baseUrl, disposed: this.#life.disposed };
  }

  /** A secret-free snapshot for readiness probes and dashboards (see TokenStatus). */
  status(): TokenStatus {
    return this.#book.snapshot(this.#life.value, this.#clock.now(), this.#clock.monotonic(), this.#timer.dueAt);
  }

  /** Where the token's life stands (see docs/architecture.md). */
  get state(): TokenState {
    return this.#life.state();
  }

  readonly #source: BearerSource = ((manager) => ({
    get baseUrl() {
      return manager.baseUrl;
    },
    get binding() {
      return manager.#refresher.provider.binding;
    },
    forRequest: () => this.#forRequest(),
    wait: (signal) => this.#wait(signal),
    unauthorized: (gen, signal, replay) => {
      const fresh = this.#replayAfterUnauthorized(gen, signal);
      if (replay) fresh.then(() => this.#telemetry.replayed(), noop);
      return fresh;
    },
    accepted: (gen) => {
      if (gen === this.#life.gen) this.#refresher.pacer.tokenAccepted();
    },
  }))(this);

  /** The hot path: the token to send now; in its refresh window this also starts the refresh. */
  #forRequest(): Held | undefined {
    this.#uses++;
    return this.#life.forRequest(this.#startBackgroundRefresh);
  }

  /** How often a token was asked for (a pool tells idle children by it). @internal */
  get [USES](): number {
    return this.#uses;
  }

  /** Attached to an instance, or refreshing (with callers, maybe, waiting): not idle, whatever the count. @internal */
  get [BUSY](): boolean {
    return this.#attachments.size > 0 || this.#inflight !== undefined;
  }

  /** Made once: the hot path allocates nothing. */
  readonly #startBackgroundRefresh = () => void this.#refresh('scheduled');

  /** No token to send: wait for the refresh every caller shares. */
  #wait(signal: AbortSignalLike | undefined): Promise<Held> {
    if (this.#life.disposed) return Promise.reject(disposedError());
    return this.#join(this.#refresh(this.#life.gen === 0 ? 'initial' : 'expired'), signal);
  }

  /** The API refused token `gen`: one refresh for all requests that carried it, then the replay. */
  #replayAfterUnauthorized(gen: number, signal: AbortSignalLike | undefined): Promise<Held> {
    if (this.#life.disposed) return Promise.reject(disposedError());
    const refused = this.#life.held;
    if (refused?.gen === gen) {
      this.#life.apply({ type: 'refused', gen });
      this.#refresher.fleet.invalidate(refused.token.accessToken);
      // Back off when new tokens keep being refused (an API that answers 401 for other reasons).
      this.#refresher.pacer.tokenRefused();
      return this.#join(this.#refresh('unauthorized'), signal);
    }
    // That token is already gone: use (or wait for) its successor without a token call.
    const current = this.#forRequest();
    return current ? Promise.resolve(current) : this.#wait(signal);
  }

  /** Single flight: every caller during a refresh shares its promise. */
  #refresh(reason: RefreshReason): Promise<Held> {
    if (this.#inflight !== undefined) return this.#inflight;
    if (this.#life.disposed) return Promise.reject(disposedError());
    this.#timer.cancel();
    this.#life.apply({ type: 'refresh-started' });
    const run = runRefresh(this.#refresher, reason);
    this.#inflight = run;
    // Handled here, so a background refresh nobody awaits can never be an unhandled rejection.
    run.then(
      (held) => this.#refreshed(held),
      (error: unknown) => this.#refreshFailed(asTokenError(error)),
    );
    return run;
  }

  #refreshed(held: Held): void {
    this.#inflight = undefined;
    const { minTimeout } = this.#refresher.retry;
    const spread = this.#refresher.fleet.shared ? this.#random() : 0;
    const next = nextRefresh(held.plan, instant(this.#clock), minTimeout, spread);
    this.#life.apply({ type: 'refresh-succeeded', closingIn: next.closingIn });
    if (!this.#life.disposed && this.#life.held === held) this.#timer.arm(next.inMs);
  }

  #refreshFailed(error: TokenError): void {
    this.#inflight = undefined;
    // While the old token lasts, try again within one back-off step; without one, the next caller does.
    const held = this.#life.held;
    const { minTimeout, maxTimeout } = this.#refresher.retry;
    const retry = held && retryIn(held.plan, instant(this.#clock), minTimeout, maxTimeout);
    this.#life.apply({ type: 'refresh-failed', retryScheduled: retry !== undefined });
    if (this.#life.disposed) return;
    this.#book.failed(error, this.#clock.now());
    this.#emit('error', error);
    if (retry !== undefined) this.#timer.arm(retry);
  }

  #onTimer(): void {
    this.#life.apply({ type: 'timer-fired' });
    void this.#refresh('scheduled');
  }

  #join(shared: Promise<Held>, signal: AbortSignalLike | undefined): Promise<Held> {
    const joined = joinShared(shared, signal, this.#keepAlive, (error) => (this.#life.disposed ? disposedError() : asTokenError(error)));
    // A caller now waits: a pause meant for background refreshes may be over for it.
    this.#refresher.pacer.nudge();
    return joined;
  }

  async #shutdown(revoke: boolean): Promise<void> {
    const { provider, fleet } = this.#refresher;
    this.#life.apply({ type: 'disposed' });
    this.#timer.cancel();
    fleet.dispose();
    this.#telemetry.dispose();
    this.#attachments.retireAll();
    // A back-off stops at once. A token call in flight may finish, for a second at most, so its
    // token is not orphaned (it is adopted, then revoked below); a hung one is cut off.
    this.#disposal.waits.abort(disposedError());
    const inflight = this.#inflight?.catch(noop);
    if (inflight !== undefined) {
      if (!(await Promise.race([inflight.then(() => true), delay(DISPOSE_GRACE_MS).then(() => false)]))) this.#disposal.calls.abort(disposedError());
      await inflight;
    }
    const live = this.#life.unexpired();
    if (revoke && live !== undefined && provider.revokeToken !== undefined) {
      try {
        await revokeAtDispose(this.#refresher, live.token);
        fleet.invalidate(live.token.accessToken);
        this.#emit('revoke', live.token);
      } catch (error) {
        this.#emit('error', asTokenError(error));
      }
    }
    this.#emit('dispose');
    this.removeAllListeners();
  }

  #emit<E extends keyof TokenManagerEvents>(event: E, ...args: Parameters<TokenManagerEvents[E]>): void {
    emitSafely(this, event, ...args);
  }
}
