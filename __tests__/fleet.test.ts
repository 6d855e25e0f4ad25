// Eight replicas (real child processes) share one simulator and one Redis. Short tokens
// (4 s, refreshed 1.2 s before expiry): one process alone makes a token call about every 2.8 s.
import type Redis from 'ioredis';
import { crowdstrike, storeKey } from '../src';
import { startSimulator, type Simulator } from '../src/testing';
import { startFleet as launchFleet, type FleetOptions, type ReplicaReport, type RunningFleet } from '../scripts/fleet/fleet';
import { sleep } from './helpers/setup';
import { describeWithRedis, startRedis, type RedisServer } from './helpers/redis';

const K = 8;
const WINDOW_MS = 1_200;

/** Fleets started by a test; killed after it, whether it passed or not. */
const running: RunningFleet[] = [];
async function startFleet(options: FleetOptions): Promise<RunningFleet> {
  const fleet = await launchFleet(options);
  running.push(fleet);
  return fleet;
}

function healthy(reports: ReplicaReport[], sim: Simulator) {
  expect(reports.flatMap((r) => Object.entries(r.failed))).toEqual([]); // no failed request anywhere
  expect(reports.reduce((sum, r) => sum + r.ok, 0)).toBe(reports.reduce((sum, r) => sum + r.requests, 0));
  expect(sim.stats.expiredTokenSends).toBe(0);
}

describeWithRedis('a fleet sharing one token through Redis', () => {
  let redis: RedisServer;
  let admin: Redis;
  let sim: Simulator;
  beforeAll(async () => {
    redis = await startRedis();
    admin = redis.client();
  });
  afterAll(() => redis.stop());
  beforeEach(async () => {
    sim = await startSimulator({ dialect: 'crowdstrike', tokenLifetimeSeconds: 4 });
    await admin.flushall();
  });
  afterEach(async () => {
    for (const fleet of running.splice(0)) fleet.close();
    await sim.close();
  });

  test(`${K} replicas start together with one token call, then make the calls of one process, with no 401`, async () => {
    const fleet = await startFleet({ size: K, sim, redisPort: redis.port, refreshWindowMs: WINDOW_MS });
    expect(sim.stats.tokenCalls).toBe(1); // a fleet that restarts together asks once
    const before = sim.stats.tokenCalls;
    fleet.go();
    await sleep(6_000);
    const reports = await fleet.stop();
    healthy(reports, sim);
    // One process alone: 6 s / ~2.8 s between refreshes = 2 or 3 calls.
    expect(sim.stats.tokenCalls - before).toBeGreaterThanOrEqual(1);
    expect(sim.stats.tokenCalls - before).toBeLessThanOrEqual(3);
    expect(sim.stats.api401).toBe(0);
    expect(reports.every((r) => r.requests > 40)).toBe(true);
  }, 30_000);

  test(`without the shared store the same ${K} replicas make ${K} times the calls`, async () => {
    const fleet = await startFleet({ size: K, sim, refreshWindowMs: WINDOW_MS });
    expect(sim.stats.tokenCalls).toBe(K);
    const before = sim.stats.tokenCalls;
    fleet.go();
    await sleep(4_000);
    healthy(await fleet.stop(), sim);
    expect(sim.stats.tokenCalls - before).toBeGreaterThanOrEqual(K);
  }, 30_000);

  test('a 401 for the shared token: every replica drops it, one of them fetches the next', async () => {
    const fleet = await startFleet({ size: K, sim, redisPort: redis.port, refreshWindowMs: WINDOW_MS });
    fleet.go();
    await sleep(1_000);
    const before = sim.stats.tokenCalls;
    sim.revokeAll();
    await sleep(1_000);
    const reports = await fleet.stop();
    healthy(reports, sim); // the 401s were replayed
    expect(sim.stats.api401).toBeGreaterThanOrEqual(1);
    expect(sim.stats.tokenCalls - before).toBeLessThanOrEqual(2); // one refresh (a scheduled one may fall here too)
  }, 30_000);

  test('Redis killed and restarted, then flushed: no request fails, one error per replica per outage, sharing comes back', async () => {
    const fleet = await startFleet({ size: K, sim, redisPort: redis.port, refreshWindowMs: WINDOW_MS });
    fleet.go();
    await sleep(1_500);
    await redis.kill();
    const atKill = sim.stats.tokenCalls;
    await sleep(3_500); // every replica refreshes at least once on its own
    const duringOutage = sim.stats.tokenCalls - atKill;
    await redis.restart();
    await sleep(3_000); // reconnect (ioredis backs off up to 2 s), then share again
    await admin.flushall();
    const flushedAt = sim.now();
    await sleep(4_000);
    const reports = await fleet.stop();
    healthy(reports, sim);
    expect(duringOutage).toBeGreaterThanOrEqual(K); // fell back: each on its own
    for (const report of reports) expect(report.errors.filter((code) => code === 'store_unavailable').length).toBeLessThanOrEqual(1);
    expect(reports.flatMap((r) => r.errors).filter((code) => code === 'store_unavailable').length).toBeGreaterThanOrEqual(K / 2);
    // After the flush, the fleet is one process again: at most 2 calls in 4 s (plus one in flight).
    const afterFlush = sim.stats.tokenCallLog.filter((call) => call.at >= flushedAt + 500).length;
    expect(afterFlush).toBeLessThanOrEqual(3);
  }, 40_000);

  test('the lock holder dies during its token call: another replica takes over within the lease', async () => {
    const lease = 1_000;
    const fleet = await startFleet({ size: K, sim, redisPort: redis.port, refreshWindowMs: WINDOW_MS, lockLeaseMs: lease });
    const lockKey = `${storeKey(crowdstrike({ clientId: sim.clientId, clientSecret: sim.clientSecret, baseUrl: sim.url }))}:lock`;
    sim.failNext(1, 'hang'); // the next token call never answers
    fleet.go();
    let holder: string | null = null;
    for (let i = 0; i < 400 && holder === null; i++) {
      holder = await admin.get(lockKey);
      if (holder === null) await sleep(10);
    }
    expect(holder).not.toBeNull();
    const calls = sim.stats.tokenCalls;
    fleet.kill(Number(holder!.split(':')[0]));
    const killedAt = Date.now();
    while (sim.stats.tokenCalls === calls && Date.now() - killedAt < 5_000) await sleep(10);
    const takeover = Date.now() - killedAt;
    expect(takeover).toBeLessThanOrEqual(lease + 750); // the lease, a poll (250 ms at most), scheduling
    await sleep(2_000);
    const reports = await fleet.stop();
    expect(reports).toHaveLength(K - 1);
    healthy(reports, sim);
  }, 30_000);
});
