// What an operator may see of a manager: its state for a readiness probe and the few numbers a
// dashboard wants, with nothing secret in it (no token, no key, no server string).
import type { TokenError } from '../errors';
import type { RefreshReason, TokenHealth, TokenStatus } from '../types';
import { sendable, type Life } from './lifecycle';

/** The running record the manager keeps for status(): cheap counters, no token. */
export class StatusBook {
  tokenCalls = 0;
  consecutiveFailures = 0;
  lastRefresh: TokenStatus['lastRefresh'];
  lastError: TokenStatus['lastError'];

  /** A refresh ended with a token: a new one (`renewed`), or the one we had, handed back. */
  adopted(reason: RefreshReason, at: number, renewed: boolean): void {
    if (renewed) this.lastRefresh = { at, reason };
    this.consecutiveFailures = 0;
  }

  failed(error: TokenError, at: number): void {
    this.lastError = { at, code: error.code, message: error.message };
    this.consecutiveFailures++;
  }

  /**
   * The snapshot. `ready`: a token may be sent now; `degraded`: it may, but the last refresh failed;
   * `refreshing`: a refresh is in flight (`usable` says whether a token may be sent meanwhile);
   * `failed`: no token may be sent and the last refresh failed; `starting`: no token may be sent and
   * none has failed since the last success (the first token, or a refused one's successor, is on its way).
   */
  snapshot(life: Life, wall: number, mono: number, nextRefreshAt: number | undefined): TokenStatus {
    const usable = sendable(life, wall, mono) !== undefined;
    // Whether the last refresh failed is the token's life's to say (a success clears it, whatever token it brought).
    const failing = life.failed;
    const state: TokenHealth = life.disposed
      ? 'disposed'
      : life.refreshing
        ? 'refreshing'
        : usable
          ? failing
            ? 'degraded'
            : 'ready'
          : failing
            ? 'failed'
            : 'starting';
    const held = life.disposed ? undefined : life.held;
    return {
      state,
      usable: usable && !life.disposed,
      ...(held && { expiresAt: held.token.expiresAt, expiresInMs: Math.max(0, held.token.expiresAt - wall) }),
      ...(nextRefreshAt !== undefined && !life.disposed && { nextRefreshAt }),
      ...(this.lastRefresh && { lastRefresh: { ...this.lastRefresh } }),
      ...(this.lastError && { lastError: { ...this.lastError } }),
      consecutiveFailures: this.consecutiveFailures,
      tokenCalls: this.tokenCalls,
    };
  }
}
