import { INSTALL_REDIS, redisServerBinary } from '../../scripts/fleet/redis-server';

export { startRedis, type RedisServer } from '../../scripts/fleet/redis-server';

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
