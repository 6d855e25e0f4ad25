// Every example runs as its own process against the simulator, as a user would run it.
import { EXAMPLES, MSSP_CHILDREN, runExample } from '../scripts/run-examples';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

describe('examples', () => {
  test.each(EXAMPLES.filter((name) => name !== 'mssp'))(
    '%s runs, talks to the API with a token, revokes it, and exits by itself',
    async (name) => {
      const run = await runExample(name);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stats.tokenCalls).toBe(1);
      expect(run.stats.apiOk).toBeGreaterThanOrEqual(1);
      expect(run.stats.revokeCalls).toBe(1);
      expect(run.stats.expiredTokenSends).toBe(0);
    },
    45_000,
  );
});

test('readiness: the probe says 503 (starting) before the first token and 200 (ready) after', async () => {
  const run = await runExample('readiness');
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/GET \/readyz -> 503 \(starting\)\nGET \/readyz -> 200 \(ready\)/);
});

test('telemetry prints the token-call metrics and span from a real OpenTelemetry SDK, with nothing secret in them', async () => {
  const run = await runExample('telemetry');
  expect(run.code).toBe(0);
  expect(run.stdout).toContain('tokenwarden.token.requests {"provider":"crowdstrike","outcome":"ok"} 1');
  expect(run.stdout).toMatch(/tokenwarden\.token\.request\.duration \{"provider":"crowdstrike","outcome":"ok"\} count 1/);
  expect(run.stdout).toMatch(/tokenwarden\.token\.remaining \{"provider":"crowdstrike"\} \d+/);
  expect(run.stdout).toMatch(/span tokenwarden\.token_request \{"provider":"crowdstrike","attempt":1/);
  expect(run.stdout).not.toMatch(/secret|Bearer/i);
}, 45_000);

test('mssp lists the children with the parent token, calls the API once per child with its own token, and revokes them all', async () => {
  const run = await runExample('mssp');
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect(run.stdout).toContain(`${MSSP_CHILDREN.length} child CIDs`);
  for (const cid of MSSP_CHILDREN) expect(run.stdout).toMatch(new RegExp(`${cid}: \\d+ hosts`));
  expect(run.stats.tokenCallsByMember).toEqual(Object.fromEntries(MSSP_CHILDREN.map((cid) => [cid, 1])));
  expect(run.stats.tokenCalls).toBe(1 + MSSP_CHILDREN.length);
  expect(run.stats.revokeCalls).toBe(1 + MSSP_CHILDREN.length);
  expect(run.stats.expiredTokenSends).toBe(0);
}, 45_000);

test('npm run demo: steady traffic, a revocation replayed, a clean summary', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '../examples/demo.ts')], {
    env: { ...process.env, DEMO_SECONDS: '5' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  expect(out).toMatch(/refresh #1 \(initial\)/);
  expect(out).toMatch(/refresh #\d \(unauthorized\)/);
  expect(out).toMatch(/revoked the token at the server/);
  // status() as a readiness probe reads it, from the first moment to the last.
  expect(out).toMatch(/status: starting \(no token, 0 token calls/);
  expect(out).toMatch(/status: ready \(token for/);
  expect(out).toMatch(/status: disposed/);
  expect(out).toMatch(/requests sent +\d+ \(\d+ ok, 0 failed\)/);
  expect(out).toMatch(/expired-token sends +0/);
  expect(code).toBe(0);
}, 45_000);
