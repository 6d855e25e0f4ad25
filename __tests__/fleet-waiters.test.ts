// Replicas waiting for the lock holder's token hear it arrive (the store's `set` notice) instead of
// polling: Redis load follows refreshes, not waiters. Ten managers in this process, each with its
// own Redis connection as a replica would have, a slow token endpoint, a real Redis; each client's
// commands counted as it sends them (its subscriber connection apart).
import Redis from 'ioredis';
import { TokenManager, storeKey, type TokenStore } from '../src';
import { redisStore } from '../src/redis';
import { startSimulator, type Simulator } from '../src/testing';
import { FAST_RETRY, providerFor, track } from './helpers/setup';
import { describeWithRedis, useRedis, type RedisServer } from './helpers/redis';

const K = 10;
/** The holder's token call: long enough for pollers to poll several times, shorter than the 500 ms fallback read. */
const TOKEN_LATENCY_MS = 400;

/** A client of `port` whose commands are counted (not those of the subscriber it duplicates). */
function countingClient(port: number): { client: Redis; sent: () => number } {
  const client = new Redis({ port, host: '127.0.0.1' });
  let sent = 0;
  const send = client.sendCommand.bind(client);
  client.sendCommand = (...args: Parameters<Redis['sendCommand']>) => {
    sent++;
    return send(...args);
  };
  track(async () => void client.disconnect());
  return { client, sent: () => sent };
}

/** K managers that start together: one holds the lock and fetches, K - 1 wait. Their commands each, and when each got its token. */
async function coldStart(sim: Simulator, port: number, store: (client: Redis) => TokenStore) {
  const counted = Array.from({ length: K }, () => countingClient(port));
  await Promise.all(counted.map(({ client }) => new Promise((resolve) => client.once('ready', resolve))));
  const before = counted.map(({ sent }) => sent());
  const started = performance.now();
  const managers = counted.map(({ client }) => {
    const tokens = new TokenManager({ provider: providerFor(sim), store: store(client), retry: FAST_RETRY, refreshTimeoutMs: 10_000 });
    track(() => tokens.dispose({ revoke: false }));
    return tokens;
  });
  const gotAt = await Promise.all(managers.map((tokens) => tokens.getToken().then(() => performance.now() - started)));
  const commands = counted.map(({ sent }, i) => sent() - before[i]!);
  return { commands, gotAt, managers, tokens: await Promise.all(managers.map((tokens) => tokens.getToken())) };
}

describeWithRedis('waiting for the lock holder', () => {
  let redis: RedisServer;
  let sim: Simulator;
  useRedis((_client, server) => (redis = server));
  beforeEach(async () => {
    sim = await startSimulator({ dialect: 'crowdstrike', latencyMs: TOKEN_LATENCY_MS });
    track(() => sim.close());
  });

  test('waiters hear the token arrive: 3 commands each for a holder quicker than the 500 ms fallback read, and every token within a moment of the first', async () => {
    const { commands, gotAt, tokens } = await coldStart(sim, redis.port, (client) => redisStore({ client }));
    expect(sim.stats.tokenCalls).toBe(1);
    expect(new Set(tokens).size).toBe(1);
    // A waiter: read, lock (taken), a wait for the notice, read: 3 (15 when polling, below). The
    // holder: read, lock, read, its token call, the write and its notice, the lock released: 6.
    const sorted = [...commands].sort((a, b) => a - b);
    for (const count of sorted.slice(0, K - 1)) expect(count).toBeLessThanOrEqual(4);
    expect(sorted[K - 1]).toBeLessThanOrEqual(8);
    expect(Math.max(...gotAt) - Math.min(...gotAt)).toBeLessThan(400);
  });

  test('the same start without notices: waiters poll, several times the commands', async () => {
    const { commands, tokens } = await coldStart(sim, redis.port, (client) => {
      const { watch: _ignored, ...polling } = redisStore({ client });
      return polling;
    });
    expect(sim.stats.tokenCalls).toBe(1);
    expect(new Set(tokens).size).toBe(1);
    // 25 ms doubling through a 400 ms token call: 5 polls, each a read and a lock attempt.
    const waiters = [...commands].sort((a, b) => b - a).slice(0, K - 1);
    for (const count of waiters) expect(count).toBeGreaterThanOrEqual(9);
  });

  test('a store whose notices never come: the waiters get the token all the same, on their fallback read', async () => {
    const silent = (client: Redis): TokenStore => ({ ...redisStore({ client }), watch: () => () => undefined });
    const { gotAt, tokens } = await coldStart(sim, redis.port, silent);
    expect(new Set(tokens).size).toBe(1);
    expect(sim.stats.tokenCalls).toBe(1);
    // The holder's token at about 400 ms; the waiters, unhearing, read again at 500 ms.
    const sorted = [...gotAt].sort((a, b) => a - b);
    expect(sorted[K - 1]! - sorted[0]!).toBeLessThan(600);
  });

  test('a flood of forged set notices: a waiter reads at most once per 25 ms, not once per notice', async () => {
    const flooder = redis.client();
    let flooding = true;
    let sent = 0;
    const flood = (async () => {
      const key = `${storeKey(providerFor(sim))}:notices`;
      while (flooding) {
        await flooder.publish(key, 'set:AAAAAAAAAAAAAAAAAAAAAA');
        sent++;
      }
    })();
    const { commands } = await coldStart(sim, redis.port, (client) => redisStore({ client }));
    flooding = false;
    await flood;
    expect(sent).toBeGreaterThan(500); // thousands of notices while the holder's 400 ms call ran
    const waiters = [...commands].sort((a, b) => a - b).slice(0, K - 1);
    // A read and a lock attempt per 25 ms through 400 ms: about 32, far from one per notice.
    for (const count of waiters) expect(count).toBeLessThanOrEqual(40);
  });
});
