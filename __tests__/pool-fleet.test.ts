// A pool in every replica, one Redis: still one token call per child for the whole fleet, and a
// child's token only ever reaches that child. Real Redis, the real simulator.
import type Redis from 'ioredis';
import { TokenPool, crowdstrike } from '../src';
import { redisStore } from '../src/redis';
import { startSimulator } from '../src/testing';
import { describeWithRedis, useRedis } from './helpers/redis';
import { track } from './helpers/setup';

const CHILDREN = Array.from({ length: 12 }, (_, i) => i.toString(16).repeat(32));

describeWithRedis('pools sharing one Redis', () => {
  let client: Redis;
  useRedis((started) => (client = started));

  test('4 replicas ask for 12 children at once: 12 token calls in all, each child its own token everywhere', async () => {
    const sim = await startSimulator({ dialect: 'crowdstrike', memberCids: CHILDREN });
    track(() => sim.close());
    const replicas = Array.from({ length: 4 }, () => {
      const pool = new TokenPool({
        provider: (memberCid) => crowdstrike({ clientId: sim.clientId, clientSecret: sim.clientSecret, memberCid, baseUrl: sim.url }),
        store: redisStore({ client }),
      });
      track(() => pool.dispose({ revoke: false }));
      return pool;
    });
    const tokens = await Promise.all(replicas.map((pool) => Promise.all(CHILDREN.map((cid) => pool.get(cid).getToken()))));
    expect(sim.stats.tokenCalls).toBe(CHILDREN.length);
    expect(sim.stats.tokenCallsByMember).toEqual(Object.fromEntries(CHILDREN.map((cid) => [cid, 1])));
    // Every replica holds the same token for a child, and no two children share one.
    for (const replica of tokens) expect(replica).toEqual(tokens[0]);
    expect(new Set(tokens[0]).size).toBe(CHILDREN.length);
    for (const [i, cid] of CHILDREN.entries()) expect(sim.issuance(tokens[0]![i]!)?.memberCid).toBe(cid);
  });
});
