// What a simulated day shows, computed from the simulator's log and the harness's counts.
import { DEFAULT_RETRY } from '../../src';
import { refreshLeadMs } from '../../src/core/policy';
import type { SimulatorStats } from '../../src/testing';
import type { DialectName } from '../../src/testing/dialects';
import type { Traffic, WorldPlan } from './harness';

export interface OutageRecovery {
  readonly startSecond: number;
  /** Token calls made while the endpoint was down. */
  readonly attemptsDuring: number;
  /** From the end of the outage to the next token call, and to the next successful one (ms). */
  readonly firstAttemptAfterMs: number | null;
  readonly firstSuccessAfterMs: number | null;
  /** The longest the next call may take: one back-off step, or a longer retry hint in force. */
  readonly allowedMs: number;
}

export interface DayReport {
  readonly scenario: string;
  readonly dialect: DialectName;
  readonly seed: number;
  readonly simulatedHours: number;
  readonly requestEverySeconds: number;
  readonly requests: number;
  readonly ok: number;
  readonly failedByCode: Record<string, number>;
  /** Failures that were not a TokenError (e.g. `http 401` after the replay), first ten. */
  readonly otherFailures: string[];
  readonly tokenCalls: number;
  /** Token calls made while no planned outage was on. */
  readonly tokenCallsOutsideOutages: number;
  /** ceil(hours / (lifetime - refresh lead)) + 1: the most a day without faults may take. */
  readonly tokenCallBudget: number;
  readonly revokeCalls: number;
  readonly api401: number;
  readonly expiredTokenSends: number;
  readonly unhandledRejections: number;
  readonly errorEvents: number;
  /** Requests that waited for a token call after the first token. */
  readonly stalls: number;
  readonly peakTokenCallsPerMinute: number;
  /** Token calls sooner after a failed one than the back-off (or the server's retry hint) allows. */
  readonly gapViolations: number;
  /** After a 429, the longest wait beyond what the server asked for (ms): a misread hint shows here. */
  readonly longestPauseAfter429Ms: number;
  readonly outages: readonly OutageRecovery[];
  readonly events: readonly string[];
  readonly wallSeconds: number;
}

interface Inputs {
  plan: WorldPlan;
  dialect: DialectName;
  lifetimeSeconds: number;
  stats: SimulatorStats;
  traffic: Traffic;
  unhandledRejections: number;
  events: string[];
  wallSeconds: number;
}

export function report({ plan, dialect, lifetimeSeconds, stats, traffic, unhandledRejections, events, wallSeconds }: Inputs): DayReport {
  const log = stats.tokenCallLog;
  const failed = (status: (typeof log)[number]['status']) => typeof status !== 'number' || status >= 300;

  let gapViolations = 0;
  let longestPauseAfter429Ms = 0;
  for (let i = 1; i < log.length; i++) {
    const previous = log[i - 1]!;
    const gap = log[i]!.at - previous.at;
    if (failed(previous.status) && gap < Math.max(DEFAULT_RETRY.minTimeout, previous.retryAfterMs ?? 0)) gapViolations++;
    if (previous.status === 429) longestPauseAfter429Ms = Math.max(longestPauseAfter429Ms, gap - (previous.retryAfterMs ?? 0));
  }

  const perMinute = new Map<number, number>();
  for (const call of log) {
    const minute = Math.floor(call.at / 60_000);
    perMinute.set(minute, (perMinute.get(minute) ?? 0) + 1);
  }

  const outages = traffic.outageMarks.map((mark): OutageRecovery => {
    const end = mark.end ?? Infinity;
    const hintsUntil = log.filter((c) => c.at < end && c.retryAfterMs !== undefined).map((c) => c.at + c.retryAfterMs!);
    const next = log.find((c) => c.at >= end);
    const success = log.find((c) => c.at >= end && !failed(c.status));
    return {
      startSecond: mark.startSecond,
      attemptsDuring: log.filter((c) => c.at >= mark.start && c.at < end).length,
      firstAttemptAfterMs: next ? next.at - end : null,
      firstSuccessAfterMs: success ? success.at - end : null,
      // The next request can start a refresh; a retry hint may hold calls back longer.
      allowedMs: Math.max(DEFAULT_RETRY.maxTimeout, Math.max(0, ...hintsUntil) - end) + plan.requestEverySeconds * 1000,
    };
  });

  const lifetimeMs = lifetimeSeconds * 1000;
  const lead = refreshLeadMs(lifetimeMs, { refreshWindowMs: 5 * 60_000 });
  return {
    scenario: plan.scenario,
    dialect,
    seed: plan.seed,
    simulatedHours: plan.hours,
    requestEverySeconds: plan.requestEverySeconds,
    requests: traffic.requests,
    ok: traffic.ok,
    failedByCode: traffic.failedByCode,
    otherFailures: traffic.otherFailures,
    tokenCalls: stats.tokenCalls,
    tokenCallsOutsideOutages: log.filter((c) => !traffic.outageMarks.some((m) => c.at >= m.start && c.at < (m.end ?? Infinity))).length,
    tokenCallBudget: Math.ceil((plan.hours * 3_600_000) / (lifetimeMs - lead)) + 1,
    revokeCalls: stats.revokeCalls,
    api401: stats.api401,
    expiredTokenSends: stats.expiredTokenSends,
    unhandledRejections,
    errorEvents: traffic.errorEvents,
    stalls: traffic.stalls,
    peakTokenCallsPerMinute: Math.max(0, ...perMinute.values()),
    gapViolations,
    longestPauseAfter429Ms,
    outages,
    events,
    wallSeconds,
  };
}
