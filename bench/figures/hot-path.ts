// Figure 1: what each library adds to every request. Requests per second through axios to the
// loopback simulator with a cached token, as a ratio to bare axios with a static header (the floor).
// Rounds are short and paired: every contender runs in every round, in rotating order, and the ratio
// is taken within the round, so drift (GC, CPU frequency, the other core) cancels out.
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

async function rate(contender: Contender, requests: number, concurrency: number): Promise<number> {
  const started = performance.now();
  for (let sent = 0; sent < requests; sent += concurrency) {
    await Promise.all(Array.from({ length: concurrency }, () => contender.request('/devices/queries/devices/v1')));
  }
  return (requests / (performance.now() - started)) * 1000;
}

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
      const inRound = new Map<string, number>();
      for (let k = 0; k < contenders.length; k++) {
        const contender = contenders[(k + round) % contenders.length]!;
        inRound.set(contender.name, await rate(contender, options.requestsPerRound, options.concurrency));
      }
      for (const [name, value] of inRound) {
        rates.set(name, [...(rates.get(name) ?? []), value]);
        ratios.set(name, [...(ratios.get(name) ?? []), value / inRound.get('floor')!]);
      }
    }
    for (const contender of contenders) await contender.close();
    const rows = contenders.map((c) => {
      const own = ratios.get(c.name)!;
      return { contender: c.name, requestsPerSecond: median(rates.get(c.name)!), ratioToFloor: median(own), ratioRange: [Math.min(...own), Math.max(...own)] as const };
    });
    return { rows, micro: await micro(sim, options.microTimeMs) };
  } finally {
    agent.destroy();
    await sim.close();
  }
}
