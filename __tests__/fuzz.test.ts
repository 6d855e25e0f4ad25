// Fuzzed token responses, 10,000 per dialect, through the real simulator. Each
// case is a fresh manager whose first token call gets the fuzzed answer; the request it serves goes
// to a server that records the Authorization header it received. A well-formed token (by the
// documented rules, restated independently in the runner) must be sent exactly as `Bearer <token>`;
// anything else must be `invalid_response` with nothing sent; no case may hang. The cases run in a
// plain Node process (fixtures/fuzz-run.ts), where axios is faster than in jest's VM.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const RUNS = 10_000;

test.concurrent.each(['crowdstrike', 'onelogin', 'oauth2'])(
  `%s: ${RUNS} fuzzed token responses`,
  async (dialect) => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures/fuzz-run.ts'), dialect, String(RUNS)], {
      timeout: 150_000,
      maxBuffer: 4 * 1024 * 1024,
    });
    const result = JSON.parse(stdout) as { failed: boolean; counterexample: unknown; numRuns: number; accepted: number; tokenCalls: number };
    expect(result.counterexample).toBeNull();
    expect(result.failed).toBe(false);
    expect(result.numRuns).toBe(RUNS);
    expect(result.tokenCalls).toBe(RUNS);
    // Both sides of the rule were exercised in earnest.
    expect(result.accepted).toBeGreaterThan(RUNS / 10);
    expect(result.accepted).toBeLessThan(RUNS * 0.9);
  },
  160_000,
);
