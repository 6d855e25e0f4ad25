// `npm run chaos`: simulated days per provider, printed as tables (see docs/reliability.md).
//   tsx scripts/chaos/run.ts [--scenario chaos,clock,long-run] [--dialect crowdstrike,onelogin,oauth2]
//                            [--seed 1] [--hours 24] [--every 1] [--json]
// --every N: one request per provider every N simulated seconds.
// --json prints one line of JSON (the test suite reads it).
import type { DialectName } from '../../src/testing/dialects';
import { simulate } from './harness';
import type { DayReport } from './report';
import { SCENARIOS, planFor, type ScenarioName } from './scenarios';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}

function table(reports: DayReport[]): string {
  const rows: [string, (r: DayReport) => string | number][] = [
    ['simulated hours', (r) => r.simulatedHours],
    ['one request every', (r) => `${r.requestEverySeconds} s`],
    ['requests', (r) => r.requests],
    ['succeeded', (r) => r.ok],
    [
      'failed, by code',
      (r) =>
        Object.entries(r.failedByCode)
          .map(([code, n]) => `${code}: ${n}`)
          .join(', ') || '0',
    ],
    ['token calls (budget without faults)', (r) => `${r.tokenCalls} (${r.tokenCallBudget})`],
    ['revoke calls', (r) => r.revokeCalls],
    ['401s from the API', (r) => r.api401],
    ['expired-token sends', (r) => r.expiredTokenSends],
    ['requests that waited for a token call', (r) => r.stalls],
    ['unhandled rejections', (r) => r.unhandledRejections],
    ['peak token calls per minute', (r) => r.peakTokenCallsPerMinute],
    ['calls sooner than the back-off allows', (r) => r.gapViolations],
    ['longest pause after a 429, beyond the hint', (r) => `${(r.longestPauseAfter429Ms / 1000).toFixed(1)} s`],
    [
      'outages that needed a token call: next call after the end',
      (r) =>
        r.outages
          .filter((o) => o.attemptsDuring > 0)
          .map((o) => `${((o.firstAttemptAfterMs ?? NaN) / 1000).toFixed(1)} s`)
          .join(', ') || '-',
    ],
    ['wall time', (r) => `${r.wallSeconds.toFixed(1)} s`],
  ];
  const header = `| | ${reports.map((r) => r.scenario).join(' | ')} |\n|---|${reports.map(() => '---').join('|')}|`;
  return [header, ...rows.map(([label, cell]) => `| ${label} | ${reports.map(cell).join(' | ')} |`)].join('\n');
}

async function main() {
  const scenarios = option('scenario', 'chaos,clock').split(',') as ScenarioName[];
  const dialects = option('dialect', 'crowdstrike,onelogin,oauth2').split(',') as DialectName[];
  const seed = Number(option('seed', '1'));
  const hours = Number(option('hours', '24'));
  const every = Number(option('every', '1'));
  for (const scenario of scenarios) if (!SCENARIOS.includes(scenario)) throw new Error(`unknown scenario ${scenario}`);
  const reports: DayReport[] = [];
  for (const scenario of scenarios) reports.push(...(await simulate(planFor(scenario, dialects, seed, hours, every))));
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(reports)}\n`);
    return;
  }
  for (const dialect of dialects) {
    console.log(`\n### ${dialect} (seed ${seed})\n\n${table(reports.filter((r) => r.dialect === dialect))}`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
