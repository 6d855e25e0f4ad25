// The refresh decision: a pure function of a token's remaining and total lifetime and the policy.
// No I/O here; the manager performs what this decides.
import { Deadline, type Instant } from './clock';
import type { AccessToken } from '../types';

export interface RefreshPolicy {
  /** Preferred lead time of a background refresh, before the cap at half the lifetime. */
  readonly refreshWindowMs: number;
}

export const DEFAULT_REFRESH_WINDOW_MS = 5 * 60_000;
/** A request sent with less validity left than this could arrive after the token died. */
export const MAX_SAFETY_MARGIN_MS = 5_000;
/**
 * Servers that count a token's life in whole seconds (oidc-provider, for one) round its issue time
 * down: it can die up to this much before `sent + expires_in`. The margin covers it whenever the
 * lifetime allows (from 4 s up).
 */
export const WHOLE_SECOND_MS = 1_000;

/**
 * - `use`: serve the cached token.
 * - `refresh`: serve the cached token and refresh in the background.
 * - `must-refresh`: the token is (nearly) expired; callers wait for a new one.
 */
export type RefreshDecision = 'use' | 'refresh' | 'must-refresh';

/**
 * The tail of a token's life that is never used: 10% of it, at least the 1 s a whole-second
 * server may have rounded away and at most 5 s, and never more than a quarter of the lifetime.
 */
export function safetyMarginMs(lifetimeMs: number): number {
  return Math.min(lifetimeMs / 4, Math.max(WHOLE_SECOND_MS, Math.min(MAX_SAFETY_MARGIN_MS, lifetimeMs / 10)));
}

/** How long before expiry a background refresh starts: the window, capped at half the lifetime. */
export function refreshLeadMs(lifetimeMs: number, policy: RefreshPolicy): number {
  return Math.max(safetyMarginMs(lifetimeMs), Math.min(policy.refreshWindowMs, lifetimeMs / 2));
}

export function decide(remainingMs: number, lifetimeMs: number, policy: RefreshPolicy): RefreshDecision {
  if (!(remainingMs > safetyMarginMs(lifetimeMs))) return 'must-refresh';
  if (remainingMs <= refreshLeadMs(lifetimeMs, policy)) return 'refresh';
  return 'use';
}

/**
 * The two moments `decide` turns on, fixed once per token so the request path compares numbers
 * instead of calling `decide`: before `refreshAt` the answer is `use`, before `useUntil` it is
 * `refresh`, after it `must-refresh`.
 */
export interface TokenPlan {
  readonly refreshAt: Deadline;
  readonly useUntil: Deadline;
}

export function planFor(token: AccessToken, now: Instant, policy: RefreshPolicy): TokenPlan {
  const lifetime = token.expiresAt - token.issuedAt;
  const remaining = token.expiresAt - now.wall;
  // The server's own hint (`refresh_in`) moves the refresh earlier, never later.
  const byPolicy = remaining - refreshLeadMs(lifetime, policy);
  const byHint = token.refreshAt === undefined ? Infinity : token.refreshAt - now.wall;
  return {
    refreshAt: new Deadline(now, Math.min(byPolicy, byHint)),
    useUntil: new Deadline(now, remaining - safetyMarginMs(lifetime)),
  };
}

/** `decide` read off a plan: what the request path does. Exported for the equivalence test. */
export function decideByPlan(plan: TokenPlan, wall: number, mono: number): RefreshDecision {
  if (wall < plan.refreshAt.wall && mono < plan.refreshAt.mono) return 'use';
  if (wall < plan.useUntil.wall && mono < plan.useUntil.mono) return 'refresh';
  return 'must-refresh';
}

/** A fleet spreads its refreshes over at most this much. */
export const MAX_SPREAD_MS = 30_000;

/**
 * When to refresh next, once `plan`'s token is in use. `spread` in [0, 1) moves the moment up to a
 * quarter of the refresh window (at most 30 s) earlier, so replicas sharing a token do not all
 * refresh at once. `closingIn`: the server handed back a token as old as the last (same-token
 * reuse), so the timer closes in on expiry by halves and the request path must not pre-empt it.
 */
export function nextRefresh(plan: TokenPlan, now: Instant, minStepMs: number, spread: number): { inMs: number; closingIn: boolean } {
  const due = plan.refreshAt.remaining(now);
  const delay = due > 0 ? due : Math.max(minStepMs, plan.useUntil.remaining(now) / 2);
  const early = spread * Math.min(MAX_SPREAD_MS, (plan.useUntil.wall - plan.refreshAt.wall) / 4);
  return { inMs: Math.max(0, delay - early), closingIn: due <= 0 };
}

/** After a failed background refresh: try again within one back-off step, well before the token runs out; undefined once it has. */
export function retryIn(plan: TokenPlan, now: Instant, minMs: number, maxMs: number): number | undefined {
  const left = plan.useUntil.remaining(now);
  return left > 0 ? Math.max(minMs, Math.min(maxMs, left / 2)) : undefined;
}
