// Simulated days run in a plain Node process (scripts/chaos/run.ts): fake time, real sockets.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { DayReport } from '../../scripts/chaos/report';

const run = promisify(execFile);

export async function simulateDays(scenario: string, options: { every?: number; hours?: number; seed?: number } = {}): Promise<DayReport[]> {
  const args = ['--import', 'tsx', join(__dirname, '../../scripts/chaos/run.ts'), '--scenario', scenario, '--json'];
  if (options.every) args.push('--every', String(options.every));
  if (options.hours) args.push('--hours', String(options.hours));
  if (options.seed) args.push('--seed', String(options.seed));
  const { stdout } = await run(process.execPath, args, { maxBuffer: 16 * 1024 * 1024, timeout: 590_000 });
  return JSON.parse(stdout) as DayReport[];
}

/** Fields a failing assertion should show, without the noise. */
export function summary(report: DayReport): object {
  const { events: _events, outages: _outages, ...rest } = report;
  return rest;
}
