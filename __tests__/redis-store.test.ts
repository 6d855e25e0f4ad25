// tokenwarden/redis against a real redis-server: values, TTLs, compare-and-delete, the lock and its
// lease, encryption at rest, and two managers in one process sharing one token through it.
import { randomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import { TokenManager, TokenError, storeKey, type AccessToken } from '../src';
import { redisStore } from '../src/redis';
import { accessTokenOf } from '../src/token-response';
import { axios, cleanup, providerFor, record, settle, sleep, track } from './helpers/setup';
import { describeWithRedis, startRedis, type RedisServer } from './helpers/redis';
import { startSimulator } from '../src/testing';

const token = (value: string, lifetimeMs = 60_000): AccessToken =>
  accessTokenOf({ accessToken: value, tokenType: 'Bearer', issuedAt: Date.now(), expiresAt: Date.now() + lifetimeMs });

describeWithRedis('tokenwarden/redis', () => {
  let redis: RedisServer;
  let client: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    client = redis.client();
  });
  afterAll(() => redis.stop());
  afterEach(async () => {
    await cleanup();
    await client.flushall();
  });

  test('a token goes in and comes out; its key lives as long as the token', async () => {
    const store = redisStore({ client });
    await store.set('k1', token('tok-one', 60_000), 60_000);
    expect((await store.get('k1'))?.accessToken).toBe('tok-one');
    const ttl = await client.pttl('k1');
    expect(ttl).toBeGreaterThan(58_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(await store.get('missing')).toBeUndefined();
  });

  test('delete with a token removes only that token: a late 401 for an old token keeps the new one', async () => {
    const store = redisStore({ client });
    await store.set('k2', token('tok-new'), 60_000);
    await store.delete('k2', 'tok-old');
    expect((await store.get('k2'))?.accessToken).toBe('tok-new');
    await store.delete('k2', 'tok-new');
    expect(await store.get('k2')).toBeUndefined();
  });

  test('the lock: one holder at a time, released only by its holder, gone with a dead holder after the lease', async () => {
    const store = redisStore({ client, lockLeaseMs: 300 });
    const first = await store.lock!('k3');
    expect(first).toBeDefined();
    expect(await store.lock!('k3')).toBeUndefined();
    await sleep(500); // held past its lease: a live holder renews it
    expect(await store.lock!('k3')).toBeUndefined();
    await first!.release();
    const second = await store.lock!('k3');
    expect(second).toBeDefined();
    await first!.release(); // the old holder cannot release the new holder's lock
    expect(await store.lock!('k3')).toBeUndefined();
    // A holder that dies stops renewing: the lease ends it. (Stop this one's renewal by hand.)
    await client.set('k4:lock', 'someone-dead', 'PX', 300);
    expect(await store.lock!('k4')).toBeUndefined();
    await sleep(400);
    expect(await store.lock!('k4')).toBeDefined();
  });

  test('encrypted at rest: the stored value shows no token; another key cannot read it, and says why', async () => {
    const key = randomBytes(32);
    const store = redisStore({ client, encryptionKey: key.toString('base64') });
    await store.set('k5', token('tok-secret-value-123'), 60_000);
    const raw = await client.get('k5');
    expect(raw).not.toContain('tok-secret-value-123');
    expect(raw).toMatch(/^tw1\.[\w-]{22}\.e/);
    expect((await store.get('k5'))?.accessToken).toBe('tok-secret-value-123');
    const other = redisStore({ client, encryptionKey: randomBytes(32) });
    await expect(other.get('k5')).rejects.toThrow(/same encryptionKey/);
    const none = redisStore({ client });
    await expect(none.get('k5')).rejects.toThrow(/no encryptionKey/);
    // The ciphertext is bound to its key name: moved elsewhere it does not decrypt.
    await client.set('k6', raw!);
    await expect(store.get('k6')).rejects.toThrow(/same encryptionKey/);
    expect(() => redisStore({ client, encryptionKey: 'too-short' })).toThrow(/32 bytes/);
  });

  test('keys name no credentials', async () => {
    const sim = await startSimulator({ dialect: 'crowdstrike' });
    track(() => sim.close());
    const tokens = new TokenManager({ provider: providerFor(sim), store: redisStore({ client }) });
    track(() => tokens.dispose());
    await tokens.getToken();
    const keys = await client.keys('*');
    expect(keys).toEqual([storeKey(providerFor(sim).identity)]);
    expect(keys[0]).toMatch(/^tokenwarden:v1:[0-9a-f]{32}$/);
    expect(keys.join()).not.toContain(sim.clientId);
  });

  test('two managers sharing the store: one token call between them, and dispose does not revoke the shared token', async () => {
    const sim = await startSimulator({ dialect: 'oauth2', latencyMs: 100 });
    track(() => sim.close());
    const a = new TokenManager({ provider: providerFor(sim), store: redisStore({ client }) });
    const b = new TokenManager({ provider: providerFor(sim), store: redisStore({ client }) });
    const [ta, tb] = await Promise.all([a.getToken(), b.getToken()]);
    expect(ta).toBe(tb);
    expect(sim.stats.tokenCalls).toBe(1);
    await a.dispose();
    expect(sim.stats.revokeCalls).toBe(0);
    expect(sim.isLive(tb)).toBe(true);
    await b.dispose({ revoke: true }); // the last one out may
    expect(sim.isLive(tb)).toBe(false);
  });

  test('Redis down: requests go on with a local token, one error per outage, and sharing comes back', async () => {
    const sim = await startSimulator({ dialect: 'crowdstrike', tokenLifetimeSeconds: 2 });
    track(() => sim.close());
    const own = redis.client();
    const tokens = new TokenManager({ provider: providerFor(sim), store: redisStore({ client: own }), retry: { minTimeout: 20, maxTimeout: 100 } });
    track(() => tokens.dispose());
    const events = record(tokens);
    const api = axios.create();
    tokens.attach(api);
    expect((await api.get('/devices/queries/devices/v1')).status).toBe(200);
    await redis.kill();
    const during: number[] = [];
    for (let i = 0; i < 25; i++) {
      during.push((await settle(api.get('/devices/queries/devices/v1'))).ok ? 200 : 0);
      await sleep(100);
    }
    expect(during.every((status) => status === 200)).toBe(true);
    const outage = events.error.filter((e) => e.code === 'store_unavailable');
    expect(outage).toHaveLength(1);
    expect(outage[0]).toBeInstanceOf(TokenError);
    expect(sim.stats.tokenCalls).toBeGreaterThan(1); // refreshed on its own meanwhile
    await redis.restart();
    await sleep(3_000); // reconnect, then at least one refresh through the store
    expect((await api.get('/devices/queries/devices/v1')).status).toBe(200);
    expect(await own.get(storeKey(providerFor(sim).identity))).not.toBeNull();
    expect(sim.stats.expiredTokenSends).toBe(0);
    client = redis.client();
  }, 20_000);
});
