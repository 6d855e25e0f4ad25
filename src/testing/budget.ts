// CrowdStrike's token-endpoint budget, when `tokenBudgetPerMinute` is given (off by default: the
// simulator's own suites make thousands of token calls a simulated minute): at most `limit` calls
// in any 60 s per source IP, a sliding window on the server's clock that /oauth2/token and
// /oauth2/revoke share (the wire notes: assume revokes count). Every answer of either endpoint
// carries X-Ratelimit-Limit and X-Ratelimit-Remaining; a call past the budget gets 429 with
// X-Ratelimit-Retryafter, the Unix second the oldest call in the window leaves it. A refused call
// takes no room in the window, so the hint is exact: a call at that second is let through.
import type { ServerResponse } from 'node:http';
import type { ServerDialect, SimRequest } from './dialect';
import type { SimulatorOptions } from './options';
import type { SimulatorStats } from './stats';
import { send } from './wire';

export const WINDOW_MS = 60_000;

/** What the budget decided for one call. */
export interface BudgetVerdict {
  readonly admitted: boolean;
  /** Calls the source may still make in the window (after this one). */
  readonly remaining: number;
  /** A refused call: ms until the window has room again. */
  readonly retryAfterMs?: number;
}

/** The record of the call, where the budget notes a refusal's hint and the source. */
interface Noted {
  retryAfterMs?: number;
  source?: string;
}

export class EndpointBudget {
  /** Calls per 60 s per source; undefined: no budget. */
  readonly limit: number | undefined;
  readonly #dialect: ServerDialect;
  /** Without a budget: the `X-Ratelimit-Limit` token answers still say (CrowdStrike's documented 300), if any. */
  readonly #nominal: number | undefined;
  /** Per source: when each admitted call of the window arrived, oldest first. */
  readonly #admitted = new Map<string, number[]>();
  /** Every token call of the last 60 s (any source), for `peakTokenCallsPerMinute`. */
  #arrivals: number[] = [];
  #peakOf: SimulatorStats | undefined;

  constructor(limit: number | undefined, dialect: ServerDialect, nominal?: number) {
    this.limit = limit;
    this.#dialect = dialect;
    this.#nominal = nominal;
  }

  /** CrowdStrike's budget (`tokenBudgetPerMinute`: none unless given, and then a nominal 300); none for the other dialects. */
  static for(options: SimulatorOptions, dialect: ServerDialect): EndpointBudget {
    const crowdstrike = options.dialect === 'crowdstrike';
    return new EndpointBudget(crowdstrike ? options.tokenBudgetPerMinute : undefined, dialect, crowdstrike ? 300 : undefined);
  }

  /** Count a call from `source` at `now` (server clock): admitted, or refused with the time it may come back. */
  take(source: string, now: number): BudgetVerdict {
    if (this.limit === undefined) return { admitted: true, remaining: Infinity };
    const calls = this.#admitted.get(source) ?? [];
    this.#admitted.set(source, calls);
    while (calls.length > 0 && calls[0]! <= now - WINDOW_MS) calls.shift();
    if (calls.length >= this.limit) return { admitted: false, remaining: 0, retryAfterMs: calls[0]! + WINDOW_MS - now };
    calls.push(now);
    return { admitted: true, remaining: this.limit - calls.length };
  }

  /**
   * Let a token or revocation call through the budget: the X-Ratelimit headers are set on `res`
   * (for whatever answer follows); false when it was answered 429 here.
   */
  admit(kind: 'token' | 'revoke', request: SimRequest, res: ServerResponse, now: number, stats: SimulatorStats, record: Noted): boolean {
    const source = request.source ?? 'unknown';
    record.source = source;
    if (kind === 'token') this.#arrive(now, stats);
    const verdict = this.take(source, now);
    if (this.limit !== undefined) {
      res.setHeader('X-Ratelimit-Limit', String(this.limit));
      res.setHeader('X-Ratelimit-Remaining', String(verdict.remaining));
    } else if (this.#nominal !== undefined && kind === 'token') res.setHeader('X-Ratelimit-Limit', String(this.#nominal));
    if (verdict.admitted) return true;
    stats[kind === 'token' ? 'tokenRateLimited' : 'revokeRateLimited']++;
    record.retryAfterMs = verdict.retryAfterMs!;
    const reply = this.#dialect.error(429, 'API rate limit exceeded');
    const hint = { 'X-Ratelimit-Retryafter': String(Math.ceil((now + verdict.retryAfterMs!) / 1000)), 'X-Ratelimit-Remaining': '0' };
    send(res, { ...reply, headers: { ...reply.headers, ...hint } }, now);
    return false;
  }

  /** Note a token call's arrival for the peak (which starts over with `resetStats`). */
  #arrive(now: number, stats: SimulatorStats): void {
    if (this.#peakOf !== stats) [this.#peakOf, this.#arrivals] = [stats, []];
    const arrivals = this.#arrivals;
    while (arrivals.length > 0 && arrivals[0]! <= now - WINDOW_MS) arrivals.shift();
    arrivals.push(now);
    stats.peakTokenCallsPerMinute = Math.max(stats.peakTokenCallsPerMinute, arrivals.length);
  }
}
