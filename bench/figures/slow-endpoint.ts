// Figure 4: a token endpoint that takes 2 s, on the real clock, with 10-second tokens, over a run
// that spans several refreshes: request latency per contender. A refresh that runs in the
// background costs requests nothing; one that runs in their path costs them the 2 s.
import { startSimulator, type Simulator } from '../../src/testing';
import { delay } from '../../src/testing/wire';
import { CONTENDERS, fetchToken, type Contender, type ContenderName } from '../contenders';

export const SLOW_CONTENDERS: readonly ContenderName[] = [
  'floor',
  'tokenwarden',
  'axios-auth-refresh',
  'axios-token-interceptor',
  'oauth2-client (fetch)',
  'falconjs-style',
];
export interface SlowOptions {
  seconds: number;
  intervalMs: number;
  /** Default 10 s tokens and a 2 s token call. */
  lifetimeSeconds?: number;
  tokenLatencyMs?: number;
}

export interface LatencySeries {
  readonly contender: string;
  /** [ms since the start, latency in ms, whether it ended in a 200] */
  readonly samples: readonly [number, number, boolean][];
  /** Moments (ms since the start) the contender called the token endpoint. */
  readonly tokenCalls: readonly number[];
}

export interface SlowRow {
  readonly contender: string;
  readonly requests: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly failed: number;
  readonly tokenCalls: number;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

export async function slowEndpoint({
  seconds,
  intervalMs,
  lifetimeSeconds = 10,
  tokenLatencyMs = 2_000,
}: SlowOptions): Promise<{ rows: SlowRow[]; series: LatencySeries[] }> {
  const sims: Simulator[] = [];
  const contenders: Contender[] = [];
  for (const name of SLOW_CONTENDERS) {
    // The floor never refreshes: its token outlives the run.
    const sim = await startSimulator({ dialect: 'crowdstrike', latencyMs: tokenLatencyMs, tokenLifetimeSeconds: name === 'floor' ? 86_400 : lifetimeSeconds });
    sims.push(sim);
    const staticToken = name === 'floor' ? (await fetchToken(sim)).access_token : undefined;
    contenders.push(CONTENDERS[name](sim, staticToken === undefined ? {} : { staticToken }));
  }
  try {
    // Each client's first token is start-up, not part of the run.
    await Promise.all(contenders.map((contender) => contender.request('/devices/queries/devices/v1').catch(() => 0)));
    const callsBefore = sims.map((sim) => sim.stats.tokenCallLog.length);
    const start = Date.now();
    const samples: [number, number, boolean][][] = contenders.map(() => []);
    const pending: Promise<void>[] = [];
    while (Date.now() - start < seconds * 1000) {
      contenders.forEach((contender, i) => {
        const sent = performance.now();
        const at = Date.now() - start;
        pending.push(
          contender.request('/devices/queries/devices/v1').then(
            (status) => void samples[i]!.push([at, performance.now() - sent, status === 200]),
            () => void samples[i]!.push([at, performance.now() - sent, false]),
          ),
        );
      });
      await delay(intervalMs);
    }
    await Promise.all(pending);
    const series = contenders.map((contender, i): LatencySeries => ({
      contender: contender.name,
      samples: samples[i]!,
      tokenCalls: sims[i]!.stats.tokenCallLog.slice(callsBefore[i]).map((call) => call.at - start),
    }));
    const rows = series.map((s): SlowRow => {
      const sorted = s.samples.map(([, ms]) => ms).sort((a, b) => a - b);
      return {
        contender: s.contender,
        requests: sorted.length,
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
        maxMs: sorted[sorted.length - 1] ?? NaN,
        failed: s.samples.filter(([, , ok]) => !ok).length,
        tokenCalls: s.tokenCalls.length,
      };
    });
    return { rows, series };
  } finally {
    for (const contender of contenders) await contender.close();
    for (const sim of sims) await sim.close();
  }
}
