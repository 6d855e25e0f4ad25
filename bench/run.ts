// `npm run bench`: every contender, every figure, in one process run on the same loopback
// simulator; prints the table and writes bench/results.json, docs/latency.svg and
// docs/performance.md. `--smoke` runs a tiny configuration (the test suite does); `--out DIR`
// writes under DIR instead of the repository; `--report` only re-renders docs/performance.md from
// bench/results.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { latencyChart } from './chart';
import { day, type DayRow } from './figures/day';
import { dpopCost, type DpopCost } from './figures/dpop';
import { hotPath, type HotPathRow } from './figures/hot-path';
import { slowEndpoint, type SlowOptions, type SlowRow } from './figures/slow-endpoint';
import { stampede, type StampedeRow } from './figures/stampede';
import { performanceDoc } from './report';

const FULL = {
  // Rounds a multiple of the 5 contenders: each runs in every position equally often.
  hotPath: { rounds: 21, requestsPerRound: 2_000, concurrency: 10, microTimeMs: 1_000 },
  stampede: 10_000,
  dayHours: 24,
  dayLifetimeSeconds: 1799,
  slow: { seconds: 30, intervalMs: 50 } as SlowOptions,
  dpop: { timeMs: 1_000, iterations: 64 },
};
const SMOKE = {
  hotPath: { rounds: 5, requestsPerRound: 100, concurrency: 10, microTimeMs: 50 },
  stampede: 200,
  dayHours: 0.25,
  // Short tokens, so that a quarter of an hour holds a dozen refreshes or more.
  dayLifetimeSeconds: 60,
  slow: { seconds: 5, intervalMs: 100, lifetimeSeconds: 4, tokenLatencyMs: 500 } as SlowOptions,
  dpop: { timeMs: 50, iterations: 8 },
};

export interface BenchResults {
  readonly generatedAt: string;
  readonly command: string;
  readonly machine: { cpu: string; cores: number; node: string; os: string };
  readonly config: typeof FULL;
  readonly micro: { getTokenNs: number; interceptorsNs: number; interceptorsAbsoluteNs: number };
  /** The request interceptor with a Bearer token vs a DPoP proof per request (absent in runs before it was measured). */
  readonly dpop?: DpopCost;
  /** One object per contender and figure. */
  readonly results: (
    ({ figure: 'hot-path' } & HotPathRow) | ({ figure: 'stampede' } & StampedeRow) | ({ figure: 'day' } & DayRow) | ({ figure: 'slow-endpoint' } & SlowRow)
  )[];
}

async function main() {
  const smoke = process.argv.includes('--smoke');
  const outIndex = process.argv.indexOf('--out');
  const out = outIndex >= 0 ? process.argv[outIndex + 1]! : join(__dirname, '..');
  const config = smoke ? SMOKE : FULL;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  if (process.argv.includes('--report')) {
    const previous = JSON.parse(readFileSync(join(out, 'bench', 'results.json'), 'utf8')) as BenchResults;
    writeFileSync(join(out, 'docs', 'performance.md'), performanceDoc(previous).markdown);
    return;
  }

  log('figure 1: hot path');
  const hot = await hotPath(config.hotPath);
  log('DPoP: the cost of a proof per request');
  const dpop = await dpopCost(config.dpop);
  log('figure 2: cold-start stampede');
  const herd = await stampede(config.stampede);
  log(`figure 3 and 5: a simulated day (${config.dayHours} h)`);
  const days = await day(config.dayHours, 1, config.dayLifetimeSeconds);
  log('figure 4: slow token endpoint');
  const slow = await slowEndpoint(config.slow);

  const results: BenchResults = {
    generatedAt: new Date().toISOString(),
    command: smoke ? 'npm run bench -- --smoke' : 'npm run bench',
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, os: `${process.platform} ${release()}` },
    config: config,
    micro: hot.micro,
    dpop,
    results: [
      ...hot.rows.map((row) => ({ figure: 'hot-path' as const, ...row })),
      ...herd.map((row) => ({ figure: 'stampede' as const, ...row })),
      ...days.map((row) => ({ figure: 'day' as const, ...row })),
      ...slow.rows.map((row) => ({ figure: 'slow-endpoint' as const, ...row })),
    ],
  };
  const doc = performanceDoc(results);
  mkdirSync(join(out, 'bench'), { recursive: true });
  mkdirSync(join(out, 'docs'), { recursive: true });
  writeFileSync(join(out, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(
    join(out, 'docs', 'latency.svg'),
    latencyChart(
      slow.series,
      config.slow.seconds,
      `Request latency with a ${((config.slow.tokenLatencyMs ?? 2000) / 1000).toFixed(1)} s token endpoint and ${config.slow.lifetimeSeconds ?? 10} s tokens`,
    ),
  );
  writeFileSync(join(out, 'docs', 'performance.md'), doc.markdown);
  process.stdout.write(`${doc.table}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
