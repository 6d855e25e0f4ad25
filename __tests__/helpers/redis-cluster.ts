import { startRedisCluster, type RedisCluster } from '../../scripts/fleet/redis-cluster';
import { describeWithRedis } from './redis';
import { cleanup } from './setup';

export { startRedisCluster, type RedisCluster };

/** `describe` for tests that need a Redis Cluster: the same skip/CI rules as describeWithRedis. */
export const describeWithRedisCluster = describeWithRedis;

/** One Redis Cluster for a `describeWithRedisCluster` block: started before its tests, stopped at the end. */
export function useRedisCluster(started: (cluster: RedisCluster) => void, nodeTimeout = 1500): void {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await startRedisCluster(nodeTimeout);
    started(cluster);
  }, 30_000);
  afterAll(() => cluster.stop());
  afterEach(() => cleanup());
}
