// Figure 1: what each library adds to every request. Requests per second through axios to the
// loopback simulator with a cached token, as a ratio to bare axios with a static header (the floor).
// Rounds are paired: every contender runs in every round, and the ratio is taken within the round.
// Inside a round the contenders take turns in slices of a few hundred requests, in rotating order,
// so a burst of noise (GC, a neighbour on the VM, the other core) lands on all of them alike
// instead of on whichever contender happened to be running.
import http from 'node:http';
import { startSimulator } from '../../src/testing';
import { CONTENDERS, fetchToken, type Contender, type ContenderName } from '../contenders';
import { micro, type MicroResult } from './micro';

export const HOT_PATH_CONTENDERS: readonly ContenderName[] = ['floor', 'tokenwarden', 'axios-auth-refresh', 'axios-token-interceptor', 'falconjs-style'];

export interface HotPathRow {
  readonly contender: string;
  /** Median over rounds. */
  readonly requestsPerSecond: number;
  /** Median over rounds of (this contender's rate / the floor's rate in the same round). */
  readonly ratioToFloor: number;
  /** The lowest and highest of those per-round ratios: the noise to read the median against. */
  readonly ratioRange: readonly [number, number];
}

export interface HotPathOptions {
  rounds: number;
  requestsPerRound: number;
  concurrency: number;
  microTimeMs: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Ms that `requests` requests take, `concurrency` at a time. */
async function timed(contender: Contender, requests: number, concurrency: number): Promise<number> {
  const started = performance.now();
  for (let sent = 0; sent < requests; sent += concurrency) {
    await Promise.all(Array.from({ length: concurrency }, () => contender.request('/devices/queries/devices/v1')));
  }
  return performance.now() - started;
}

const SLICES_PER_ROUND = 10;

export async function hotPath(options: HotPathOptions): Promise<{ rows: HotPathRow[]; micro: MicroResult }> {
  // Tokens outlive the run: this measures the cached path only.
  const sim = await startSimulator({ dialect: 'crowdstrike', tokenLifetimeSeconds: 86_400 });
  const agent = new http.Agent({ keepAlive: true });
  try {
    const staticToken = (await fetchToken(sim)).access_token;
    const contenders = HOT_PATH_CONTENDERS.map((name) => CONTENDERS[name](sim, { staticToken }));
    for (const contender of contenders) {
      contender.axios!.defaults.httpAgent = agent;
      await contender.request('/devices/queries/devices/v1'); // warm up, fetch the token
    }
    const rates = new Map<string, number[]>();
    const ratios = new Map<string, number[]>();
    for (let round = 0; round < options.rounds; round++) {
      const elapsed = new Map<string, number>(contenders.map((c) => [c.name, 0]));
      const perSlice = Math.max(options.concurrency, Math.round(options.requestsPerRound / SLICES_PER_ROUND / options.concurrency) * options.concurrency);
      for (let slice = 0; slice < SLICES_PER_ROUND; slice++) {
        for (let k = 0; k < contenders.length; k++) {
          const contender = contenders[(k + round + slice) % contenders.length]!;
          elapsed.set(contender.name, elapsed.get(contender.name)! + (await timed(contender, perSlice, options.concurrency)));
        }
      }
      const inRound = new Map([...elapsed].map(([name, ms]) => [name, ((perSlice * SLICES_PER_ROUND) / ms) * 1000]));
      for (const [name, value] of inRound) {
        rates.set(name, [...(rates.get(name) ?? []), value]);
        ratios.set(name, [...(ratios.get(name) ?? []), value / inRound.get('floor')!]);
      }
    }
    for (const contender of contenders) await contender.close();
    const rows = contenders.map((c) => {
      const own = ratios.get(c.name)!;
      return {
        contender: c.name,
        requestsPerSecond: median(rates.get(c.name)!),
        ratioToFloor: median(own),
        ratioRange: [Math.min(...own), Math.max(...own)] as const,
      };
    });
    return { rows, micro: await micro(sim, options.microTimeMs) };
  } finally {
    agent.destroy();
    await sim.close();
  }
}
