// One refresh, from start to finish: a token someone else put in the store, or the store's lock and
// our own token calls (retried, paced, each with a deadline), then the token shared for the others.
// Bounded as a whole by refreshTimeoutMs. Knows providers only by their interface.
import { TokenError, asTokenError } from '../errors';
import type { AccessToken, PreviousToken, ProviderContext, RefreshReason, TokenProvider } from '../types';
import { linkedAbort, noop, untilAborted } from './clock';
import type { Fleet } from './fleet';
import type { Held, TokenLife } from './lifecycle';
import type { Pacer } from './pacer';
import { Turns, type TokenBudget } from './budget';
import { withRetry, type RetryPolicy } from './retry';

export interface Refresher {
  readonly provider: TokenProvider;
  readonly context: ProviderContext;
  readonly life: TokenLife;
  readonly fleet: Fleet;
  readonly pacer: Pacer;
  readonly retry: RetryPolicy;
  readonly attemptTimeoutMs: number;
  readonly refreshTimeoutMs: number;
  /** Shared with other managers: every token call waits for its turn. */
  readonly budget: TokenBudget | undefined;
  /** Aborted at dispose: waits and pauses stop. */
  readonly waits: AbortSignal;
  /** Aborted when dispose gives up on a token call in flight (after its grace). */
  readonly calls: AbortSignal;
  /** Someone waits for this refresh without a token in hand. */
  readonly waiting: () => boolean;
  /** A token is in use from now on: `renewed` unless it is the one we had. */
  readonly adopted: (token: AccessToken, reason: RefreshReason, renewed: boolean) => void;
  /** A token given up before its successor came (revoked by the provider, refused by the API). */
  readonly dropped: (token: AccessToken) => void;
  /** A token call is about to be sent (for status() and telemetry): the returned function ends it. */
  readonly calling: (reason: RefreshReason, attempt: number) => (error?: TokenError) => void;
}

/**
 * Run one refresh. It rejects with `timeout` (naming the last failure) once refreshTimeoutMs has
 * passed: its token call in flight is cut off, and a fleet's lock is given up.
 */
export async function runRefresh(r: Refresher, reason: RefreshReason): Promise<Held> {
  let last: TokenError | undefined;
  const deadline = linkedAbort([], r.refreshTimeoutMs, () => timedOut(r.refreshTimeoutMs, last));
  const waits = linkedAbort([r.waits, deadline.signal]);
  try {
    // A fresher token that another manager or replica shared beats a token call; otherwise the
    // holder of the store's lock fetches one for everyone who shares it.
    const fresh = (shared: { token: AccessToken; state?: unknown }) => r.life.worthAdopting(shared.token) && (r.provider.adoptState?.(shared.state) ?? true);
    const claim = await r.fleet.claim(fresh, waits.signal, r.refreshTimeoutMs / 2);
    if ('shared' in claim) return adopt(r, claim.shared.token, reason);
    // The fleet's store is down: a background refresh keeps the token it has while that lasts,
    // instead of every replica fetching its own. The timer then closes in on the token (see
    // nextRefresh), and the probe ends the outage within a second of the store's answer.
    const kept = reason === 'scheduled' && claim.lock === undefined && r.fleet.down ? r.life.keepable() : undefined;
    if (kept !== undefined) return adopt(r, kept.token, reason);
    try {
      const attempt = (n: number) =>
        attemptOnce(r, reason, n, waits.signal, deadline.signal).catch((error: unknown) => {
          last = asTokenError(error);
          throw last;
        });
      const held = await withRetry(attempt, r.retry, waits.signal, (n) => r.pacer.attemptFailed(n));
      r.pacer.refreshSucceeded();
      // Callers need not wait for the store; the lock is held until the token is in it.
      void r.fleet.publish({ token: held.token, state: r.provider.shareState?.() }).finally(() => claim.lock?.release().catch(noop));
      return held;
    } catch (error) {
      // Disposed mid-refresh: not a failure of the endpoint, and nobody should wait on our lock.
      if (r.waits.aborted) {
        claim.lock?.release().catch(noop);
        throw error;
      }
      // Consecutive failed refreshes wait longer and longer before the next token call, and the
      // lock stays taken through that pause: no other replica calls in the meantime either.
      r.pacer.refreshFailed();
      claim.lock?.release(r.pacer.waitMs(false)).catch(noop);
      throw error;
    }
  } finally {
    deadline.clear();
    waits.clear();
  }
}

/** One token call (after the pause the pacer asks for), cut off at attemptTimeoutMs. */
async function attemptOnce(r: Refresher, reason: RefreshReason, attempt: number, waits: AbortSignal, deadline: AbortSignal): Promise<Held> {
  await r.pacer.wait(waits, r.waiting);
  const turns = r.budget && new Turns(r.budget, r.waiting);
  await turns?.first(waits);
  const call = callDeadline(r, 'token', [r.calls, deadline]);
  const context = callContext(r, call.signal, turns);
  let ended: ((error?: TokenError) => void) | undefined;
  let failed: TokenError | undefined;
  try {
    const previous = previousToken(r);
    ended = r.calling(reason, attempt);
    const token = await untilAborted(r.provider.fetchToken(context, previous === undefined ? {} : { previous }), call.signal);
    return adopt(r, token, reason);
  } catch (error) {
    const failure = asTokenError(error);
    failed = failure;
    if (failure.retryAfterMs !== undefined) r.pacer.hint(failure.retryAfterMs);
    // The endpoint's limit is everyone's: one pause for all who share the budget (1 s without a hint).
    if (failure.code === 'rate_limited' || failure.retryAfterMs !== undefined) r.budget?.pause(failure.retryAfterMs ?? 1_000);
    throw failure;
  } finally {
    call.clear();
    turns?.release();
    ended?.(failed);
  }
}

/** The token the new one replaces, as the provider sees it. */
function previousToken(r: Refresher): PreviousToken | undefined {
  const previous = r.life.previous();
  if (previous === undefined) return undefined;
  const { held, live } = previous;
  return {
    token: held.token,
    live,
    retire() {
      r.life.apply({ type: 'revoked', held });
      r.dropped(held.token);
    },
  };
}

function adopt(r: Refresher, token: AccessToken, reason: RefreshReason): Held {
  const { held, renewed } = r.life.arrive(token, r.provider.name);
  r.adopted(token, reason, renewed);
  return held;
}

function timedOut(ms: number, last: TokenError | undefined): TokenError {
  const why = last === undefined ? '' : `; the last attempt failed with ${last.code}`;
  return new TokenError('timeout', `no token within ${ms} ms (refreshTimeoutMs)${why}`, last === undefined ? {} : { cause: last });
}

/**
 * Revoke `token` at dispose. With a budget, the wait for a turn is bounded by refreshTimeoutMs
 * (a full window must not hang a shutdown), then the call by attemptTimeoutMs.
 */
export async function revokeAtDispose(r: Refresher, token: AccessToken): Promise<void> {
  const { provider, refreshTimeoutMs } = r;
  const turns = r.budget && new Turns(r.budget, () => false);
  const queued = linkedAbort(
    [],
    refreshTimeoutMs,
    () =>
      new TokenError('timeout', `${provider.name} revoke got no turn in the shared budget within ${refreshTimeoutMs} ms: not revoked (it expires on its own)`),
  );
  try {
    await turns?.first(queued.signal);
  } finally {
    queued.clear();
  }
  const call = callDeadline(r, 'revoke', []);
  try {
    await untilAborted(provider.revokeToken!(token, callContext(r, call.signal, turns)), call.signal);
  } finally {
    call.clear();
    turns?.release();
  }
}

/** One call's deadline: attemptTimeoutMs for the whole exchange, headers and body. */
function callDeadline(r: Refresher, what: 'token' | 'revoke', signals: AbortSignal[]): ReturnType<typeof linkedAbort> {
  const ms = r.attemptTimeoutMs;
  return linkedAbort(signals, ms, () => new TokenError('timeout', `${r.provider.name} ${what} call got no complete answer within ${ms} ms (attemptTimeoutMs)`));
}

/** What a provider gets for one call: the manager's context, the call's signal, its budget turns. */
function callContext(r: Refresher, signal: AbortSignal, turns: Turns | undefined): ProviderContext {
  return { ...r.context, signal, ...(turns && { turn: () => turns.next(signal) }) };
}
