// What tokens.fetch costs a request against bare fetch, in the same run: the time of one request
// over loopback to the simulator, both ways interleaved request by request (so that the machine's
// drift, GC and the simulator's state fall on both alike), bare fetch carrying the same token in a
// header written by hand. And the cost on its own: both against a fetch that answers at once
// without a network, timed by tinybench in batches.
import { Bench } from 'tinybench';
import { TokenManager, clientCredentials, type FetchLike } from '../../src';
import { startSimulator } from '../../src/testing';

export interface FetchCostOptions {
  /** Rounds, each of `requestsPerRound` requests, the ways in turn. */
  rounds: number;
  requestsPerRound: number;
  /** Requests in flight at once; 1 keeps either way from waiting behind the other's. */
  concurrency: number;
  /** tinybench time budget per task, ms. */
  microTimeMs: number;
}

export interface FetchCost {
  /** The mean time of one request over loopback, µs (the median over rounds). */
  readonly bareUs: number;
  readonly tokensUs: number;
  /** Throughput of tokens.fetch over bare fetch's (bareUs / tokensUs, per round; the median): the goal is at least 0.98. */
  readonly ratio: number;
  /** The lowest and highest ratio of one round. */
  readonly ratioRange: readonly [number, number];
  /** The same ratio between bare fetch and a second, identical bare fetch: the measurement's noise. */
  readonly controlRatio: number;
  /** Per call against a fetch that answers at once: tokens.fetch's own cost, and a bare call's. */
  readonly tokensNs: number;
  readonly bareNs: number;
}

const PATH = '/v1/items';
const BATCH = 1_000;

export async function fetchCost(options: FetchCostOptions): Promise<FetchCost> {
  const sim = await startSimulator({ dialect: 'oauth2' });
  const provider = () => clientCredentials({ tokenUrl: sim.tokenUrl, clientId: sim.clientId, clientSecret: sim.clientSecret, baseUrl: sim.url });
  const tokens = new TokenManager({ provider: provider() });
  try {
    const header = `Bearer ${await tokens.getToken()}`;
    const url = `${sim.url}${PATH}`;
    const bare = () => fetch(url, { headers: { Authorization: header } });
    const ours = () => tokens.fetch(PATH);
    // A second bare fetch, the same in every way: how far apart two identical ways come out is the noise.
    const control = () => fetch(url, { headers: { Authorization: header } });
    await interleaved([bare, ours, control], 300, options.concurrency);
    const ratios: number[] = [];
    const controls: number[] = [];
    const bareUs: number[] = [];
    const tokensUs: number[] = [];
    for (let round = 0; round < options.rounds; round++) {
      const [one, other, same] = await interleaved([bare, ours, control], options.requestsPerRound, options.concurrency);
      bareUs.push(one!);
      tokensUs.push(other!);
      ratios.push(one! / other!);
      controls.push(one! / same!);
    }
    const micro = await perCall(provider, header, options.microTimeMs);
    return {
      bareUs: median(bareUs),
      tokensUs: median(tokensUs),
      ratio: median(ratios),
      ratioRange: [Math.min(...ratios), Math.max(...ratios)],
      controlRatio: median(controls),
      ...micro,
    };
  } finally {
    await tokens.dispose({ revoke: false });
    await sim.close();
  }
}

/** `count` requests, `concurrency` at a time, the ways in turn, each body read to the end: the mean µs of each way. */
async function interleaved(ways: readonly (() => Promise<Response>)[], count: number, concurrency: number): Promise<number[]> {
  const spent = ways.map(() => 0);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const way = next++ % ways.length;
      const started = performance.now();
      const response = await ways[way]!();
      await response.arrayBuffer();
      spent[way]! += performance.now() - started;
      if (response.status !== 200) throw new Error(`bench: the API answered ${response.status}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return spent.map((ms) => (ms / (count / ways.length)) * 1000);
}

/** tokens.fetch and a bare call against a fetch that answers at once: the cost of the wrapper alone. */
async function perCall(provider: () => ReturnType<typeof clientCredentials>, header: string, timeMs: number): Promise<{ tokensNs: number; bareNs: number }> {
  const answer = new Response(null, { status: 200 });
  const instant: FetchLike = () => Promise.resolve(answer);
  const wrapped = new TokenManager({ provider: provider(), fetch: instant });
  await wrapped.getToken();
  const bench = new Bench({ time: timeMs, warmup: true });
  bench
    .add('tokens.fetch', async () => {
      for (let i = 0; i < BATCH; i++) await wrapped.fetch(PATH);
    })
    .add('bare', async () => {
      for (let i = 0; i < BATCH; i++) await instant(PATH, { headers: { Authorization: header } });
    });
  await bench.run();
  await wrapped.dispose({ revoke: false });
  const ns = (name: string) => ((bench.getTask(name)!.result as unknown as { latency: { p50: number } }).latency.p50 * 1e6) / BATCH;
  return { tokensNs: ns('tokens.fetch'), bareNs: ns('bare') };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
