// `npm run demo:fleet`: a simulator and a Redis of our own, then K = 1, 2, 4, 8 replicas (real
// processes) with and without the shared store, each run for a few token lifetimes under steady
// traffic. Prints token calls per token lifetime: with the store the fleet costs what one process
// costs; without it, K times that.
import { startSimulator } from '../../src/testing';
import { delay } from '../../src/testing/wire';
import { startFleet } from './fleet';
import { INSTALL_REDIS, redisServerBinary, startRedis } from './redis-server';

const LIFETIME_SECONDS = 4;
const REFRESH_WINDOW_MS = 1_200;
const RUN_SECONDS = Number(process.env['FLEET_SECONDS'] ?? 8);
const SIZES = [1, 2, 4, 8];

async function run(size: number, redisPort: number | undefined) {
  const sim = await startSimulator({ dialect: 'crowdstrike', tokenLifetimeSeconds: LIFETIME_SECONDS });
  try {
    const fleet = await startFleet({ size, sim, ...(redisPort !== undefined && { redisPort }), refreshWindowMs: REFRESH_WINDOW_MS });
    fleet.go();
    await delay(RUN_SECONDS * 1000);
    const reports = await fleet.stop();
    const requests = reports.reduce((sum, r) => sum + r.requests, 0);
    const failed = reports.reduce((sum, r) => sum + Object.values(r.failed).reduce((a, b) => a + b, 0), 0);
    return { calls: sim.stats.tokenCalls, requests, failed, expired: sim.stats.expiredTokenSends, unauthorized: sim.stats.api401 };
  } finally {
    await sim.close();
  }
}

async function main() {
  if (redisServerBinary() === undefined) {
    console.error(INSTALL_REDIS);
    process.exitCode = 1;
    return;
  }
  const redis = await startRedis();
  console.log(
    `Redis on 127.0.0.1:${redis.port}; ${LIFETIME_SECONDS} s tokens refreshed ${REFRESH_WINDOW_MS / 1000} s before expiry; ${RUN_SECONDS} s of 10 requests a second per replica\n`,
  );
  console.log(
    '| replicas | token calls per token lifetime, shared through Redis | own token each | own ÷ shared | requests | failed | expired-token sends | 401s |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  const lifetimes = RUN_SECONDS / LIFETIME_SECONDS;
  try {
    for (const size of SIZES) {
      const shared = await run(size, redis.port);
      const alone = await run(size, undefined);
      const perLifetime = (calls: number) => (calls / lifetimes).toFixed(1);
      console.log(
        `| ${size} | ${perLifetime(shared.calls)} (${shared.calls} calls) | ${perLifetime(alone.calls)} (${alone.calls} calls) | ${(alone.calls / shared.calls).toFixed(1)} | ${shared.requests} + ${alone.requests} | ${shared.failed + alone.failed} | ${shared.expired + alone.expired} | ${shared.unauthorized + alone.unauthorized} |`,
      );
    }
  } finally {
    await redis.stop();
  }
  console.log("\nToken calls include each run's first token. One process alone refreshes every ~2.8 s, so ~1.4 calls per 4 s lifetime.");
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
