// `npm run bench`: every contender, every figure, in one process run on the same loopback
// simulator; prints the table and writes bench/results.json, docs/latency.svg and
// docs/performance.md. `--smoke` runs a tiny configuration (the test suite does); `--out DIR`
// writes under DIR instead of the repository; `--report` only re-renders docs/performance.md from
// bench/results.json; `--only mssp` (figure names, comma-separated: hot-path, dpop, fetch, stampede, day,
// slow-endpoint, mssp, fleet) runs those figures alone and puts their numbers into the bench/results.json
// already there (the other figures' numbers stay as they were).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { latencyChart } from './chart';
import { day, type DayRow } from './figures/day';
import { dpopCost, type DpopCost } from './figures/dpop';
import { fetchCost, type FetchCost } from './figures/fetch';
import { fleetFigure, type FleetFigureOptions, type FleetRow } from './figures/fleet';
import { hotPath, type HotPathRow } from './figures/hot-path';
import { mssp, type MsspOptions, type MsspRow } from './figures/mssp';
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
  fetch: { rounds: 21, requestsPerRound: 1_500, concurrency: 1, microTimeMs: 1_000 },
  // 20 s tokens (refreshed at half-life) from a 200 ms token endpoint, 3 lifetimes of a request every 2 s from each manager.
  fleet: {
    sizes: [1, 20, 100, 1000],
    lifetimeSeconds: 20,
    lifetimes: 3,
    requestEveryMs: 2_000,
    afterRevocationMs: 3_000,
    revocations: 3,
    revocationEveryMs: 31_000,
    tokenLatencyMs: 200,
  } as FleetFigureOptions,
  // 500 children at once under CrowdStrike's 300 token calls a minute per IP, then a day of one
  // request per child every 5 minutes; the pool with its default budget (250 a minute).
  mssp: { children: 500, hours: 24, requestEverySeconds: 300, serverBudgetPerMinute: 300, lifetimeSeconds: 1799 } as MsspOptions,
};
const SMOKE = {
  hotPath: { rounds: 5, requestsPerRound: 100, concurrency: 10, microTimeMs: 50 },
  stampede: 200,
  dayHours: 0.25,
  // Short tokens, so that a quarter of an hour holds a dozen refreshes or more.
  dayLifetimeSeconds: 60,
  slow: { seconds: 5, intervalMs: 100, lifetimeSeconds: 4, tokenLatencyMs: 500 } as SlowOptions,
  dpop: { timeMs: 50, iterations: 8 },
  fetch: { rounds: 3, requestsPerRound: 90, concurrency: 1, microTimeMs: 50 },
  fleet: {
    sizes: [1, 10],
    lifetimeSeconds: 4,
    lifetimes: 2,
    requestEveryMs: 500,
    afterRevocationMs: 1_500,
    revocations: 1,
    revocationEveryMs: 0,
    tokenLatencyMs: 200,
  } as FleetFigureOptions,
  // The full run's shape scaled to 40 children: the server's budget and the pool's in the same
  // proportion (300 and 250 for 500), so start-up still takes the budget's second minute.
  mssp: { children: 40, hours: 1, requestEverySeconds: 300, serverBudgetPerMinute: 24, poolBudgetPerMinute: 20, lifetimeSeconds: 1799 } as MsspOptions,
};

const FIGURES = ['hot-path', 'dpop', 'fetch', 'stampede', 'day', 'slow-endpoint', 'mssp', 'fleet'] as const;
type FigureName = (typeof FIGURES)[number];
/** The config keys each figure reads. */
const CONFIG_KEYS: Record<FigureName, readonly (keyof typeof FULL)[]> = {
  'hot-path': ['hotPath'],
  dpop: ['dpop'],
  fetch: ['fetch'],
  stampede: ['stampede'],
  day: ['dayHours', 'dayLifetimeSeconds'],
  'slow-endpoint': ['slow'],
  mssp: ['mssp'],
  fleet: ['fleet'],
};

export interface BenchResults {
  readonly generatedAt: string;
  readonly command: string;
  readonly machine: { cpu: string; cores: number; node: string; os: string };
  readonly config: typeof FULL;
  /** Figures run again on their own (`--only`) after the run above, newest last. */
  readonly updates?: readonly { figures: readonly string[]; at: string; command: string }[];
  readonly micro: { getTokenNs: number; interceptorsNs: number; interceptorsAbsoluteNs: number };
  /** The request interceptor with a Bearer token vs a DPoP proof per request (absent in runs before it was measured). */
  readonly dpop?: DpopCost;
  /** tokens.fetch against bare fetch (absent in runs before it was measured). */
  readonly fetch?: FetchCost;
  /** K managers on one Redis (absent in runs before it was measured). */
  readonly fleet?: readonly FleetRow[];
  /** One object per contender and figure. */
  readonly results: (
    | ({ figure: 'hot-path' } & HotPathRow)
    | ({ figure: 'stampede' } & StampedeRow)
    | ({ figure: 'day' } & DayRow)
    | ({ figure: 'slow-endpoint' } & SlowRow)
    | ({ figure: 'mssp' } & MsspRow)
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

  const onlyIndex = process.argv.indexOf('--only');
  const only = onlyIndex >= 0 ? (process.argv[onlyIndex + 1] ?? '').split(',').filter(Boolean) : undefined;
  const unknown = only?.filter((name) => !(FIGURES as readonly string[]).includes(name)) ?? [];
  if (only !== undefined && (only.length === 0 || unknown.length > 0)) throw new Error(`--only takes figure names among ${FIGURES.join(', ')}`);
  const runs = (figure: FigureName) => only === undefined || only.includes(figure);
  const previous = only === undefined ? undefined : (JSON.parse(readFileSync(join(out, 'bench', 'results.json'), 'utf8')) as BenchResults);

  let hot: Awaited<ReturnType<typeof hotPath>> | undefined;
  if (runs('hot-path')) {
    log('figure 1: hot path');
    hot = await hotPath(config.hotPath);
  }
  let dpop: DpopCost | undefined;
  if (runs('dpop')) {
    log('DPoP: the cost of a proof per request');
    dpop = await dpopCost(config.dpop);
  }
  let fetched: FetchCost | undefined;
  if (runs('fetch')) {
    log('tokens.fetch against bare fetch');
    fetched = await fetchCost(config.fetch);
  }
  let herd: StampedeRow[] | undefined;
  if (runs('stampede')) {
    log('figure 2: cold-start stampede');
    herd = await stampede(config.stampede);
  }
  let days: DayRow[] | undefined;
  if (runs('day')) {
    log(`figure 3 and 5: a simulated day (${config.dayHours} h)`);
    days = await day(config.dayHours, 1, config.dayLifetimeSeconds);
  }
  let slow: Awaited<ReturnType<typeof slowEndpoint>> | undefined;
  if (runs('slow-endpoint')) {
    log('figure 4: slow token endpoint');
    slow = await slowEndpoint(config.slow);
  }
  let msspRows: MsspRow[] | undefined;
  if (runs('mssp')) {
    log(`figure 6: an MSSP parent, ${config.mssp.children} children, ${config.mssp.hours} h`);
    msspRows = await mssp(config.mssp);
  }

  let fleet: FleetRow[] | undefined;
  if (runs('fleet')) {
    log(`figure 7: fleets of ${config.fleet.sizes.join(', ')} managers on one Redis, ${config.fleet.revocations} revocations each`);
    fleet = await fleetFigure(config.fleet);
  }

  const fresh: BenchResults['results'] = [
    ...(hot?.rows ?? []).map((row) => ({ figure: 'hot-path' as const, ...row })),
    ...(herd ?? []).map((row) => ({ figure: 'stampede' as const, ...row })),
    ...(days ?? []).map((row) => ({ figure: 'day' as const, ...row })),
    ...(slow?.rows ?? []).map((row) => ({ figure: 'slow-endpoint' as const, ...row })),
    ...(msspRows ?? []).map((row) => ({ figure: 'mssp' as const, ...row })),
  ];
  const command = `npm run bench${smoke || only ? ' --' : ''}${smoke ? ' --smoke' : ''}${only ? ` --only ${only.join(',')}` : ''}`;
  const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, os: `${process.platform} ${release()}` };
  const results: BenchResults =
    previous === undefined
      ? { generatedAt: new Date().toISOString(), command, machine, config, micro: hot!.micro, dpop, fetch: fetched, fleet, results: fresh }
      : {
          ...previous,
          config: {
            ...previous.config,
            ...Object.fromEntries(only!.flatMap((figure) => CONFIG_KEYS[figure as FigureName].map((key) => [key, config[key]]))),
          },
          ...(hot && { micro: hot.micro }),
          ...(dpop && { dpop }),
          ...(fetched && { fetch: fetched }),
          ...(fleet && { fleet }),
          updates: [...(previous.updates ?? []), { figures: only!, at: new Date().toISOString(), command }],
          results: [...previous.results.filter((row) => !only!.includes(row.figure)), ...fresh],
        };
  const doc = performanceDoc(results);
  mkdirSync(join(out, 'bench'), { recursive: true });
  mkdirSync(join(out, 'docs'), { recursive: true });
  writeFileSync(join(out, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  if (slow)
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
