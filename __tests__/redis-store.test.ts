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

  test("a stored token's expiry is bounded by the key's TTL (Redis's clock, not the writer's)", async () => {
    const store = redisStore({ client });
    // A writer whose wall clock runs an hour ahead: the token looks an hour longer-lived than it is.
    await store.set('k7', token('tok-skewed', 3_600_000 + 2_000), 2_000);
    const read = await store.get('k7');
    expect(read?.expiresAt).toBeLessThanOrEqual(Date.now() + 2_000);
  });

  test('with encryption on, a plaintext value (one we did not write) is refused', async () => {
    await redisStore({ client }).set('k8', token('tok-planted'), 60_000);
    await expect(redisStore({ client, encryptionKey: randomBytes(32) }).get('k8')).rejects.toThrow(/not encrypted/);
  });

  test("a refresh that failed on a 429 keeps the lock through the server's pause: no other process calls", async () => {
    const sim = await startSimulator({ dialect: 'oauth2' });
    track(() => sim.close());
    sim.failNext(1, { rateLimitSeconds: 2 });
    const make = () => new TokenManager({ provider: providerFor(sim), store: redisStore({ client }), retry: { retries: 0 } });
    const a = make();
    const b = make();
    track(() => a.dispose());
    track(() => b.dispose());
    const failed = await settle(a.getToken());
    expect((failed as { error: TokenError }).error.code).toBe('rate_limited');
    expect(await b.getToken()).toEqual(expect.any(String)); // waited for the lock to lapse
    const [first, second] = sim.stats.tokenCallLog.map((call) => call.at);
    expect(sim.stats.tokenCalls).toBe(2);
    expect(second! - first!).toBeGreaterThanOrEqual(1_950);
  });

  test('keys name no credentials', async () => {
    const sim = await startSimulator({ dialect: 'crowdstrike' });
    track(() => sim.close());
    const tokens = new TokenManager({ provider: providerFor(sim), store: redisStore({ client }) });
    track(() => tokens.dispose());
    await tokens.getToken();
    const key = storeKey(providerFor(sim).identity);
    expect(key).toMatch(/^tokenwarden:v1:[0-9a-f]{32}$/);
    const keys = await client.keys('*');
    expect(keys).toContain(key);
    for (const name of keys) expect([key, `${key}:lock`]).toContain(name); // the lock, if still held
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

  test('Redis hangs: no request is slowed, and the stall is one error', async () => {
    const sim = await startSimulator({ dialect: 'oauth2', tokenLifetimeSeconds: 4 });
    track(() => sim.close());
    const tokens = new TokenManager({ provider: providerFor(sim), store: redisStore({ client: redis.client() }) });
    track(() => tokens.dispose());
    const events = record(tokens);
    const api = axios.create();
    tokens.attach(api);
    await api.get('/x');
    redis.pause(); // every command now waits forever
    const durations: number[] = [];
    try {
      for (let i = 0; i < 50; i++) {
        const started = performance.now();
        expect((await api.get('/x')).status).toBe(200);
        durations.push(performance.now() - started);
        await sleep(100);
      }
    } finally {
      redis.resume();
    }
    expect(sim.stats.tokenCalls).toBeGreaterThanOrEqual(2); // refreshed on its own, past the hung store
    expect(Math.max(...durations)).toBeLessThan(500); // the hot path never waits for Redis
    expect(events.error.map((e) => e.code)).toEqual(['store_unavailable']);
    expect(sim.stats.expiredTokenSends).toBe(0);
  }, 20_000);

  test('with a shared store, refresh moments are jittered (up to a quarter of the window earlier)', async () => {
    const gapFor = async (random: number) => {
      const sim = await startSimulator({ dialect: 'oauth2', tokenLifetimeSeconds: 4 });
      track(() => sim.close());
      const tokens = new TokenManager({ provider: providerFor(sim), store: redisStore({ client }) });
      track(() => tokens.dispose());
      const events = record(tokens);
      const pinned = jest.spyOn(Math, 'random').mockReturnValue(random);
      try {
        await tokens.getToken(); // the refresh timer is armed as the first token is adopted
      } finally {
        pinned.mockRestore();
      }
      while (events.refresh.length < 2) await sleep(20);
      return events.refresh[1]!.token.issuedAt - events.refresh[0]!.token.issuedAt;
    };
    const latest = await gapFor(0);
    const earliest = await gapFor(0.999);
    // 4 s tokens: refreshed 2 s before expiry, never in the last 0.4 s: a spread of up to 0.4 s.
    expect(latest).toBeGreaterThanOrEqual(1_900);
    expect(latest - earliest).toBeGreaterThanOrEqual(300);
    expect(latest - earliest).toBeLessThanOrEqual(500);
  }, 20_000);

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
