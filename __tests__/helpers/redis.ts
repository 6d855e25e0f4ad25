import type Redis from 'ioredis';
import { INSTALL_REDIS, redisServerBinary, startRedis, type RedisServer } from '../../scripts/fleet/redis-server';
import { cleanup } from './setup';

export { startRedis, type RedisServer };

/**
 * `describe` for tests that need Redis: skipped, and saying how to install it, when there is no
 * redis-server; under CI=true a missing redis-server fails the run instead.
 */
export function describeWithRedis(name: string, body: () => void): void {
  if (redisServerBinary() !== undefined) return describe(name, body);
  if (process.env['CI'] === 'true') {
    return describe(name, () =>
      test('redis-server is installed', () => {
        throw new Error(`${INSTALL_REDIS} (CI=true: Redis tests may not be skipped)`);
      }),
    );
  }
  return describe.skip(`${name} [skipped: ${INSTALL_REDIS}]`, body);
}

/**
 * One Redis server for a `describeWithRedis` block: started before its tests, emptied (and the
 * tests' `cleanup()` run) after each, stopped at the end.
 */
export function useRedis(started: (client: Redis, server: RedisServer) => void): void {
  let redis: RedisServer;
  let client: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    client = redis.client();
    started(client, redis);
  });
  afterAll(() => redis.stop());
  afterEach(async () => {
    await cleanup();
    await client.flushall();
  });
}
