// The benchmark is not a test (npm run bench), but it must not rot: run it in its tiny
// configuration and check that every figure produced every contender's numbers, and the properties
// it exists to show.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BenchResults } from '../bench/run';

const run = promisify(execFile);
let out: string;
let results: BenchResults;
const row = (figure: string, contender: string) =>
  results.results.find((r) => r.figure === figure && r.contender === contender) as unknown as Record<string, number>;

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'tokenwarden-bench-'));
  await run(process.execPath, ['--import', 'tsx', join(__dirname, '../bench/run.ts'), '--smoke', '--out', out], { timeout: 150_000 });
  results = JSON.parse(readFileSync(join(out, 'bench/results.json'), 'utf8')) as BenchResults;
}, 160_000);

test('every figure has a row for each of its contenders', () => {
  const count = (figure: string) => results.results.filter((r) => r.figure === figure).length;
  expect(count('hot-path')).toBe(5);
  expect(count('stampede')).toBe(5);
  expect(count('day')).toBe(6);
  expect(count('slow-endpoint')).toBe(6);
  expect(row('hot-path', 'floor').ratioToFloor).toBe(1);
  expect(row('hot-path', 'tokenwarden').ratioToFloor).toBeGreaterThan(0);
  expect(results.micro.interceptorsNs).toBeGreaterThan(0);
  expect(results.fetch!.tokensUs).toBeGreaterThan(0);
  expect(results.fetch!.bareUs).toBeGreaterThan(0);
  expect(results.fetch!.tokensNs).toBeGreaterThan(0);
});

test('tokenwarden: one token call for the stampede; through a dozen refreshes, no 401, no stall, nothing failed', () => {
  expect(row('stampede', 'tokenwarden')).toMatchObject({ tokenCalls: 1, api401: 0, failed: 0 });
  expect(row('day', 'tokenwarden').tokenCalls).toBeGreaterThanOrEqual(12); // 60 s tokens over 15 minutes
  expect(row('day', 'tokenwarden')).toMatchObject({ api401: 0, stalled: 0, failed: 0, expiredTokenSends: 0 });
  // The clients that refresh in the request path stall at every expiry.
  expect(row('day', 'falconjs-style').stalled).toBeGreaterThanOrEqual(5);
  expect(row('day', 'axios-auth-refresh').api401).toBeGreaterThanOrEqual(5);
});

test('slow token endpoint: no tokenwarden request waits for a token call; the in-path refreshers do', () => {
  const tokenCallMs = results.config.slow.tokenLatencyMs!;
  expect(row('slow-endpoint', 'tokenwarden').tokenCalls).toBeGreaterThanOrEqual(1);
  expect(row('slow-endpoint', 'tokenwarden').maxMs).toBeLessThan(tokenCallMs);
  expect(row('slow-endpoint', 'tokenwarden').failed).toBe(0);
  for (const other of ['axios-auth-refresh', 'axios-token-interceptor', 'oauth2-client (fetch)', 'falconjs-style']) {
    expect(row('slow-endpoint', other).maxMs).toBeGreaterThanOrEqual(tokenCallMs * 0.9);
  }
});

test('the chart and the performance page are written', () => {
  expect(readFileSync(join(out, 'docs/latency.svg'), 'utf8')).toMatch(/^<svg[\s\S]*tokenwarden[\s\S]*<\/svg>\n$/);
  const doc = readFileSync(join(out, 'docs/performance.md'), 'utf8');
  expect(doc).toContain('| contender | req/s vs floor (range over rounds) |');
  expect(doc).toContain('npm run bench -- --smoke');
});
