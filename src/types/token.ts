// The token, its life and its health as the manager reports them.
import type { TokenErrorCode } from '../errors';

/** A client-credentials access token as the manager holds it. Objects handed out are frozen. */
export interface AccessToken {
  readonly accessToken: string;
  /** `'Bearer'`, or `'DPoP'` for a token bound to the manager's DPoP key (RFC 9449). */
  readonly tokenType: string;
  /** Epoch ms. Counted from the moment the token request was sent, not from when it arrived. */
  readonly expiresAt: number;
  /** Epoch ms at which the token request was sent. */
  readonly issuedAt: number;
  readonly scope?: string;
  /** Epoch ms: the server's hint for when to refresh (Entra's `refresh_in`), when it gave one. */
  readonly refreshAt?: number;
}

/**
 * Where a manager's token stands: none yet (or the last one was refused), usable, due for its
 * background refresh, past its use (callers wait), being refreshed, usable though the last refresh
 * failed, or disposed.
 */
export type TokenState = 'no-token' | 'usable' | 'refresh-due' | 'must-refresh' | 'refreshing' | 'failing' | 'disposed';

/** A manager's health (`status().state`): the README's "Health and readiness" says what each means. */
export type TokenHealth = 'starting' | 'ready' | 'refreshing' | 'degraded' | 'failed' | 'disposed';

/** What `status()` returns: a cheap snapshot with no token, key or server string in it. */
export interface TokenStatus {
  readonly state: TokenHealth;
  /** A token may be sent now: what a readiness probe asks. */
  readonly usable: boolean;
  /** When the token held expires (epoch ms), and how long until then. */
  readonly expiresAt?: number;
  readonly expiresInMs?: number;
  /** When the background refresh (or the retry after a failure) is due, epoch ms. */
  readonly nextRefreshAt?: number;
  /** The last new token: when it arrived and why it was fetched (or adopted from the store). */
  readonly lastRefresh?: { readonly at: number; readonly reason: RefreshReason };
  /** The last failed refresh: our own message, never the server's words. */
  readonly lastError?: { readonly at: number; readonly code: TokenErrorCode; readonly message: string };
  /** Failed refreshes since the last new token. */
  readonly consecutiveFailures: number;
  /** Token-endpoint attempts this manager made (retries count; tokens adopted from the store do not). */
  readonly tokenCalls: number;
}

/**
 * Why a new token was fetched: the first one, ahead of expiry in the background, because a caller
 * found the token expired (a timer that fired late, a failed background refresh), after a 401, or
 * on `refresh()`.
 */
export type RefreshReason = 'initial' | 'scheduled' | 'expired' | 'unauthorized' | 'manual';

/**
 * Where time comes from. `now()` is the wall clock (epoch ms). `monotonic()` is a clock that never
 * jumps (default `performance.now()`); a token is usable only while both clocks say so, which
 * survives wall-clock jumps (monotonic) and laptop sleep (wall).
 */
export interface Clock {
  now(): number;
  monotonic?(): number;
}
