// Nothing accumulates over a long life. (Exit without open handles, also when
// disposed during a token call or a back-off, is in dispose.test.ts.)
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startSimulator, type Simulator } from '../src/testing';

const run = promisify(execFile);
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ dialect: 'crowdstrike', tokenLifetimeSeconds: 10 });
});
afterAll(() => sim.close());

test('10,000 refresh cycles with 100 axios instances attached and detached: heap flat, nothing left attached', async () => {
  const { stdout } = await run(process.execPath, ['--expose-gc', '--import', 'tsx', join(__dirname, 'fixtures/lifecycle.ts')], {
    env: { ...process.env, SIM_URL: sim.url, SIM_ID: sim.clientId, SIM_SECRET: sim.clientSecret },
    timeout: 120_000,
  });
  const result = JSON.parse(stdout) as {
    cycles: number;
    refreshes: number;
    requests: number;
    heapGrowthBytes: number;
    attachedBefore: number;
    guards: number;
    responseInterceptors: number;
    listeners: number;
    interceptors: number;
  };
  expect(result.cycles).toBe(10_000);
  expect(result.refreshes).toBe(10_001); // the first token and one per cycle
  expect(sim.stats.apiOk).toBe(result.requests);
  expect(result.heapGrowthBytes).toBeLessThan(1024 * 1024);
  expect(result.attachedBefore).toBe(50); // half the 100 instances were attached when dispose ran...
  expect(result.responseInterceptors).toBe(0); // ...and it took its interceptors off every one,
  expect(result.guards).toBe(50); // leaving one guard each (requests for its API reject with disposed),
  expect(result.interceptors).toBe(0); // which a manager attached (and detached) afterwards removed
  expect(result.listeners).toBe(0);
}, 150_000);
