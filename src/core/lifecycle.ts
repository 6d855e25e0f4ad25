// The token's life, in one place: its states, the events that move it, and what a caller may do
// with it now. Pure functions of (life, time, event); `TokenLife` only keeps the current value.
//
// Three rules decide everything:
//   1. A token is sent only before its use-until moment, on both clocks: never in its safety margin.
//   2. In its refresh window it is still sent, and one background refresh starts, unless one is
//      running or the timer already holds the next try (after a failure, or a token handed back
//      unchanged).
//   3. With no token to send, callers wait for the one refresh in flight, starting it if none is.
import { TokenError } from '../errors';
import type { AccessToken, Clock, TokenState } from '../types';
import { instant, type Instant } from './clock';
import { decideByPlan, planFor, refreshLeadMs, type RefreshPolicy, type TokenPlan } from './policy';

/** A token as the manager holds it, with what the request path needs precomputed. */
export interface Held {
  readonly token: AccessToken;
  readonly plan: TokenPlan;
  /** Increases each time the token changes: a 401 names the token it was for by this number. */
  readonly gen: number;
  /** `'Bearer <token>'`, built once per token. */
  readonly header: string;
  /** What getToken() returns while this token is usable: one promise, not one per call. */
  readonly resolved: Promise<string>;
}

export interface Life {
  /** The token being served. */
  readonly held: Held | undefined;
  /** The token last given up (refused by the API, or revoked before a rotation), and whether it was revoked. */
  readonly retired: { readonly held: Held; readonly revoked: boolean } | undefined;
  readonly gen: number;
  readonly refreshing: boolean;
  /** The timer holds the next try (after a failed refresh, or a token handed back unchanged). */
  readonly timerHoldsRetry: boolean;
  /** The last refresh failed (cleared by the next token). */
  readonly failed: boolean;
  readonly disposed: boolean;
}

export const NEW_LIFE: Life = { held: undefined, retired: undefined, gen: 0, refreshing: false, timerHoldsRetry: false, failed: false, disposed: false };

export type LifeEvent =
  | { readonly type: 'refresh-started' }
  /** A token arrived (see `arrival`): served from now on. */
  | { readonly type: 'token'; readonly held: Held }
  /** The refresh ended with a token; `closingIn`: it is as old as the last, and the timer closes in on it. */
  | { readonly type: 'refresh-succeeded'; readonly closingIn: boolean }
  /** The refresh failed; `retryScheduled`: the timer will try again while the old token lasts. */
  | { readonly type: 'refresh-failed'; readonly retryScheduled: boolean }
  | { readonly type: 'timer-fired' }
  /** The API refused token `gen`. */
  | { readonly type: 'refused'; readonly gen: number }
  /** `held` was revoked (by a provider, before it could get a new token). */
  | { readonly type: 'revoked'; readonly held: Held }
  | { readonly type: 'disposed' };

// Time is passed as two numbers (wall, monotonic), not an Instant: the request path asks on every
// request, and allocates nothing to do it.

/** What the token's plan says at this moment, ignoring everything else. */
function phaseOf(held: Held | undefined, wall: number, mono: number): 'no-token' | 'usable' | 'refresh-due' | 'must-refresh' {
  if (held === undefined) return 'no-token';
  const decision = decideByPlan(held.plan, wall, mono);
  return decision === 'use' ? 'usable' : decision === 'refresh' ? 'refresh-due' : 'must-refresh';
}

export function stateOf(life: Life, wall: number, mono: number): TokenState {
  if (life.disposed) return 'disposed';
  if (life.refreshing) return 'refreshing';
  const phase = phaseOf(life.held, wall, mono);
  return life.failed && (phase === 'usable' || phase === 'refresh-due') ? 'failing' : phase;
}

/** What a caller may do now: the three rules at once. */
export type Verdict = 'send' | 'send-and-refresh' | 'wait';

export function verdictOf(life: Life, wall: number, mono: number): Verdict {
  const held = life.held;
  if (held === undefined || life.disposed) return 'wait';
  const decision = decideByPlan(held.plan, wall, mono);
  if (decision === 'must-refresh') return 'wait';
  if (decision === 'use' || life.refreshing || life.timerHoldsRetry) return 'send';
  return 'send-and-refresh';
}

/** Rule 1: the token, if it may be sent now. */
export function sendable(life: Life, wall: number, mono: number): Held | undefined {
  return verdictOf(life, wall, mono) === 'wait' ? undefined : life.held;
}

/** Rule 2: a background refresh should start now. */
export function shouldRefresh(life: Life, wall: number, mono: number): boolean {
  return verdictOf(life, wall, mono) === 'send-and-refresh';
}

/** Rule 3: callers must wait for a refresh. */
export function mustRefresh(life: Life, wall: number, mono: number): boolean {
  return !life.disposed && verdictOf(life, wall, mono) === 'wait';
}

/** The token held, if it has not died yet, whatever else: what dispose may revoke. */
export function unexpired(life: Life, wall: number, mono: number): Held | undefined {
  const phase = phaseOf(life.held, wall, mono);
  return phase === 'usable' || phase === 'refresh-due' ? life.held : undefined;
}

export function next(life: Life, event: LifeEvent): Life {
  // Once disposed, only a token still arrives: the call in flight at dispose, to be revoked.
  if (life.disposed) return event.type === 'token' ? { ...life, held: event.held } : life;
  switch (event.type) {
    case 'refresh-started':
      return { ...life, refreshing: true };
    case 'token':
      return { ...life, held: event.held, retired: undefined, gen: Math.max(life.gen, event.held.gen), failed: false };
    case 'refresh-succeeded':
      return { ...life, refreshing: false, timerHoldsRetry: event.closingIn, failed: false };
    case 'refresh-failed':
      return { ...life, refreshing: false, timerHoldsRetry: event.retryScheduled, failed: true };
    case 'timer-fired':
      return { ...life, timerHoldsRetry: false };
    case 'refused':
      return life.held?.gen === event.gen ? { ...life, held: undefined, retired: { held: life.held, revoked: false } } : life;
    case 'revoked':
      return { ...life, held: life.held === event.held ? undefined : life.held, retired: { held: event.held, revoked: true } };
    case 'disposed':
      return { ...life, refreshing: false, timerHoldsRetry: false, disposed: true };
  }
}

/**
 * `token` as it would be held from `now`, or why it cannot be: too little life left to use. It
 * keeps the generation of the token it equals (one handed back unchanged is not a new token).
 */
export function arrival(life: Life, token: AccessToken, now: Instant, policy: RefreshPolicy): { held: Held; renewed: boolean } | { leftMs: number } {
  const plan = planFor(token, now, policy);
  if (decideByPlan(plan, now.wall, now.mono) === 'must-refresh') return { leftMs: Math.max(0, token.expiresAt - now.wall) };
  const previous = life.held ?? life.retired?.held;
  const same = previous !== undefined && previous.token.accessToken === token.accessToken;
  const held: Held = {
    token,
    plan,
    gen: same ? previous.gen : life.gen + 1,
    // Two schemes only, whatever a provider wrote: a header is no place for what it might hold.
    header: `${/^dpop$/i.test(token.tokenType) ? 'DPoP' : 'Bearer'} ${token.accessToken}`,
    resolved: Promise.resolve(token.accessToken),
  };
  return { held, renewed: !same };
}

/**
 * The token a new one replaces, for the provider: the one being served while it is still good
 * (`live`), else one the API refused and nobody has revoked yet.
 */
export function previousOf(life: Life, now: Instant): { held: Held; live: boolean } | undefined {
  const live = sendable(life, now.wall, now.mono);
  if (live !== undefined) return { held: live, live: true };
  return life.retired?.revoked === false ? { held: life.retired.held, live: false } : undefined;
}

/** A token someone else fetched is worth taking: not ours, not one we gave up, not due for refresh. */
export function worthAdopting(life: Life, token: AccessToken, now: Instant, policy: RefreshPolicy): boolean {
  if (token.accessToken === life.held?.token.accessToken || token.accessToken === life.retired?.held.token.accessToken) return false;
  const plan = planFor(token, now, policy);
  return decideByPlan(plan, now.wall, now.mono) === 'use';
}

/** The one mutable place: the current life, read on both clocks. */
export class TokenLife {
  #life: Life = NEW_LIFE;
  readonly #clock: Required<Clock>;
  readonly #policy: RefreshPolicy;

  constructor(clock: Required<Clock>, policy: RefreshPolicy) {
    this.#clock = clock;
    this.#policy = policy;
  }

  get gen(): number {
    return this.#life.gen;
  }

  get held(): Held | undefined {
    return this.#life.held;
  }

  get disposed(): boolean {
    return this.#life.disposed;
  }

  /** The current life, for status(). */
  get value(): Life {
    return this.#life;
  }

  state(): TokenState {
    return stateOf(this.#life, this.#clock.now(), this.#clock.monotonic());
  }

  /**
   * The hot path: the token to send now (rule 1). In its refresh window, `startRefresh` is called
   * first (rule 2): the timer should have done it, but timers fire late after sleep or in a frozen
   * container.
   */
  forRequest(startRefresh: () => void): Held | undefined {
    const held = this.#life.held;
    const verdict = verdictOf(this.#life, this.#clock.now(), this.#clock.monotonic());
    if (verdict === 'wait') return undefined;
    if (verdict === 'send-and-refresh') startRefresh();
    return held;
  }

  /** Rule 3, for callers that ask before they wait. */
  mustRefresh(): boolean {
    return mustRefresh(this.#life, this.#clock.now(), this.#clock.monotonic());
  }

  apply(event: LifeEvent): void {
    this.#life = next(this.#life, event);
  }

  /** Serve `token` from now on; `renewed` is false when it is the token we already had. */
  arrive(token: AccessToken, provider: string): { held: Held; renewed: boolean } {
    const arrived = arrival(this.#life, token, instant(this.#clock), this.#policy);
    if ('leftMs' in arrived) throw new TokenError('invalid_response', `${provider} token arrived with ${arrived.leftMs} ms of life left, too little to use`);
    this.apply({ type: 'token', held: arrived.held });
    return arrived;
  }

  /** The token held, if it has not died yet (disposed or not): what dispose may revoke. */
  unexpired(): Held | undefined {
    return unexpired(this.#life, this.#clock.now(), this.#clock.monotonic());
  }

  /**
   * The token held, while more than half of its refresh lead is left before it must be replaced:
   * worth keeping, rather than fetching a token of our own, while the fleet's store is down.
   */
  keepable(): Held | undefined {
    const now = instant(this.#clock);
    const held = unexpired(this.#life, now.wall, now.mono);
    if (held === undefined) return undefined;
    const lead = refreshLeadMs(held.token.expiresAt - held.token.issuedAt, this.#policy);
    return held.plan.useUntil.remaining(now) > lead / 2 ? held : undefined;
  }

  previous(): { held: Held; live: boolean } | undefined {
    return previousOf(this.#life, instant(this.#clock));
  }

  worthAdopting(token: AccessToken): boolean {
    return worthAdopting(this.#life, token, instant(this.#clock), this.#policy);
  }
}
