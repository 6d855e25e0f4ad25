// The token a manager holds, and the one it last gave up: which may be sent now, what a new one
// replaces, what a stored one is worth. State and decisions only; the manager does the I/O.
import type { HeldToken } from './axios';
import { instant, type Instant } from './clock';
import { TokenError } from './errors';
import { decideByPlan, planFor, type RefreshDecision, type RefreshPolicy, type TokenPlan } from './policy';
import type { AccessToken, Clock } from './types';

export interface Held extends HeldToken {
  readonly token: AccessToken;
  readonly plan: TokenPlan;
  /** What getToken() returns while this token is usable: one promise, not one per call. */
  readonly resolved: Promise<string>;
}

export class TokenSlot {
  /** The token being served. */
  current: Held | undefined;
  /** The token we stopped serving (refused by the API, or rotated away); `revoked` once we revoked it. */
  retired: { held: Held; revoked: boolean } | undefined;
  #gen = 0;
  readonly #clock: Required<Clock>;
  readonly #policy: RefreshPolicy;

  constructor(clock: Required<Clock>, policy: RefreshPolicy) {
    this.#clock = clock;
    this.#policy = policy;
  }

  /** The generation of the newest token; 0 before the first. */
  get gen(): number {
    return this.#gen;
  }

  /** What to do with the current token now (undefined: there is none). */
  decide(): RefreshDecision | undefined {
    const held = this.current;
    return held === undefined ? undefined : decideByPlan(held.plan, this.#clock.now(), this.#clock.monotonic());
  }

  /** Serve `token` from now on; `renewed` is false when it is the token we already had. */
  put(token: AccessToken, provider: string): { held: Held; renewed: boolean } {
    const { plan, now, decision } = this.#judge(token);
    if (decision === 'must-refresh') {
      throw new TokenError('invalid_response', `${provider} token arrived with ${Math.max(0, token.expiresAt - now.wall)} ms of life left, too little to use`);
    }
    const previous = this.current ?? this.retired?.held;
    const same = previous !== undefined && previous.token.accessToken === token.accessToken;
    const held: Held = { token, plan, gen: same ? previous.gen : ++this.#gen, header: `Bearer ${token.accessToken}`, resolved: Promise.resolve(token.accessToken) };
    this.current = held;
    this.retired = undefined;
    return { held, renewed: !same };
  }

  /** Stop serving token `gen` if it is the current one (the API refused it); returns it if so. */
  refuse(gen: number): Held | undefined {
    const held = this.current;
    if (held === undefined || held.gen !== gen) return undefined;
    this.current = undefined;
    this.retired = { held, revoked: false };
    return held;
  }

  /**
   * The token an endpoint that reuses tokens (OneLogin) must see revoked before it issues a new
   * one: the current token while it is still good (`live`), else a refused one not yet revoked.
   */
  toRevoke(): { held: Held; live: boolean } | undefined {
    const decision = this.decide();
    if (this.current !== undefined && decision !== 'must-refresh') return { held: this.current, live: true };
    return this.retired?.revoked === false ? { held: this.retired.held, live: false } : undefined;
  }

  /** `held` has been revoked: it is not served any more. */
  revoked(held: Held): void {
    if (this.current === held) this.current = undefined;
    this.retired = { held, revoked: true };
  }

  /** A token from the store is worth adopting: not ours, not one we gave up, and not due for refresh. */
  isFresher(token: AccessToken): boolean {
    if (token.accessToken === this.current?.token.accessToken || token.accessToken === this.retired?.held.token.accessToken) return false;
    return this.#judge(token).decision === 'use';
  }

  /** What `token` would be worth if it arrived now. */
  #judge(token: AccessToken): { plan: TokenPlan; now: Instant; decision: RefreshDecision } {
    const now = instant(this.#clock);
    const plan = planFor(token, now, this.#policy);
    return { plan, now, decision: decideByPlan(plan, now.wall, now.mono) };
  }
}
