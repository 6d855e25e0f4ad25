// tokenwarden/redis against a real redis-server: values, TTLs, compare-and-delete, the lock and its
// lease, encryption at rest, and two managers in one process sharing one token through it.
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { TokenManager, TokenError, storeKey, type AccessToken, type StoredEntry } from '../src';
import { redisStore } from '../src/redis';
import { keyring } from '../src/core/seal';
import { accessTokenOf } from '../src/core/token';
import { axios, cleanup, providerFor, record, settle, sleep, track } from './helpers/setup';
import { describeWithRedis, startRedis, type RedisServer } from './helpers/redis';
import { startSimulator } from '../src/testing';

const token = (value: string, lifetimeMs = 60_000): AccessToken =>
  accessTokenOf({ accessToken: value, tokenType: 'Bearer', issuedAt: Date.now(), expiresAt: Date.now() + lifetimeMs });
const entry = (tag: string, sealed: string): StoredEntry => ({ tag, sealed });

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

  test('an entry goes in and comes out with the TTL left; its key lives as long as the token', async () => {
    const store = redisStore({ client });
    await store.set('k1', entry('tag-one', 'sealed-one'), 60_000);
    const read = await store.get('k1');
    expect(read).toMatchObject({ tag: 'tag-one', sealed: 'sealed-one' });
    expect(read!.ttlMs).toBeGreaterThan(58_000);
    expect(read!.ttlMs).toBeLessThanOrEqual(60_000);
    const ttl = await client.pttl('k1');
    expect(ttl).toBeGreaterThan(58_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(await store.get('missing')).toBeUndefined();
  });

  test('delete with a tag removes only that token: a late 401 for an old token keeps the new one', async () => {
    const store = redisStore({ client });
    await store.set('k2', entry('tag-new', 'sealed-new'), 60_000);
    await store.delete('k2', 'tag-old');
    expect((await store.get('k2'))?.tag).toBe('tag-new');
    await store.delete('k2', 'tag-new');
    expect(await store.get('k2')).toBeUndefined();
  });

  test('watch: a set and a tagged delete from any client tell every watcher of that key (kind and tag only), until it unwatches', async () => {
    const writer = redisStore({ client });
    const watcher = redisStore({ client: redis.client() });
    const heard: string[] = [];
    const other: string[] = [];
    const unwatch = watcher.watch!('kw', (notice) => heard.push(`${notice.kind} ${notice.tag}`));
    const unwatchOther = watcher.watch!('kw-other', (notice) => other.push(`${notice.kind} ${notice.tag}`));
    await sleep(100); // subscribed
    await writer.set('kw', entry('tag-w', 'sealed-w'), 60_000);
    await writer.delete('kw', 'tag-w');
    await writer.delete('kw', 'tag-gone'); // that token is not there (any more): nothing deleted, no notice
    await writer.delete('kw'); // an untagged delete names no token: no notice
    await sleep(100);
    expect(heard).toEqual(['set tag-w', 'deleted tag-w']);
    expect(other).toEqual([]);
    unwatch();
    await writer.delete('kw', 'tag-late');
    await sleep(100);
    expect(heard).toEqual(['set tag-w', 'deleted tag-w']);
    // The last watcher gone, the subscriber connection is closed.
    expect(await client.pubsub('NUMSUB', 'kw:notices')).toEqual(['kw:notices', 0]);
    unwatchOther();
    await sleep(100);
    expect(((await client.client('LIST')) as string).split('\n').filter((line) => / sub=[1-9]/.test(line))).toEqual([]);
  });

  test('an app that quits its client without disposing: the subscriber we opened goes with it', async () => {
    const own = new Redis({ port: redis.port, host: '127.0.0.1' }); // the app's own: quit by the app, not by the test's cleanup
    const store = redisStore({ client: own });
    const ends = own.listenerCount('end');
    for (let i = 0; i < 15; i++) store.watch!('kq-cycle', () => undefined)(); // pool children that come and go
    expect(own.listenerCount('end')).toBe(ends); // nothing piles up on the app's client
    store.watch!('kq', () => undefined);
    await sleep(100);
    const subscribers = async () => ((await client.client('LIST')) as string).split('\n').filter((line) => / sub=[1-9]/.test(line));
    expect(await subscribers()).toHaveLength(1);
    await own.quit();
    await sleep(100);
    expect(await subscribers()).toEqual([]);
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

  test('encryptionKey adds a second layer: the raw value hides the sealed text, and other keys cannot read it', async () => {
    const key = randomBytes(32);
    const store = redisStore({ client, encryptionKey: key.toString('base64') });
    await store.set('k5', entry('tag-five', 'the-sealed-text'), 60_000);
    const raw = await client.get('k5');
    expect(raw).not.toContain('the-sealed-text');
    expect(raw).toMatch(/^tw2\.tag-five\.e/);
    expect(await store.get('k5')).toMatchObject({ tag: 'tag-five', sealed: 'the-sealed-text' });
    // Another encryptionKey, or none, cannot read it: it is no entry for them (and gets overwritten).
    expect(await redisStore({ client, encryptionKey: randomBytes(32) }).get('k5')).toBeUndefined();
    expect(await redisStore({ client }).get('k5')).toBeUndefined();
    // The ciphertext is bound to its key name: moved elsewhere it does not decrypt.
    await client.set('k6', raw!, 'PX', 60_000);
    expect(await store.get('k6')).toBeUndefined();
    // With an encryptionKey, a value without that layer is one this store did not write.
    await redisStore({ client }).set('k8', entry('tag-planted', 'planted'), 60_000);
    expect(await store.get('k8')).toBeUndefined();
    expect(() => redisStore({ client, encryptionKey: 'too-short' })).toThrow(/32 bytes/);
  });

  test("a shared token's expiry is bounded by the key's TTL (Redis's clock, not the writer's)", async () => {
    const sim = await startSimulator({ dialect: 'oauth2' });
    track(() => sim.close());
    const provider = providerFor(sim);
    // A writer whose wall clock runs an hour ahead: the token looks an hour longer-lived than it is.
    const keys = keyring(provider.identity, sim.clientSecret);
    const skewed = token('tok-skewed', 3_600_000 + 2_000);
    await redisStore({ client }).set(keys.key, keys.seal({ token: skewed }), 2_000);
    const tokens = new TokenManager({ provider, store: redisStore({ client }) });
    track(() => tokens.dispose());
    const events = record(tokens);
    expect(await tokens.getToken()).toBe('tok-skewed');
    expect(sim.stats.tokenCalls).toBe(0);
    expect(events.refresh[0]!.token.expiresAt).toBeLessThanOrEqual(Date.now() + 2_000);
  });

  test('keys name no credentials, and hold nothing a reader without the secret can use', async () => {
    const sim = await startSimulator({ dialect: 'crowdstrike' });
    track(() => sim.close());
    const tokens = new TokenManager({ provider: providerFor(sim), store: redisStore({ client }) });
    track(() => tokens.dispose());
    const value = await tokens.getToken();
    const key = storeKey(providerFor(sim));
    // A keyed hash under the secret, in a Redis Cluster hash tag (the lock lives in the same slot).
    expect(key).toMatch(/^tokenwarden:v2:\{[0-9a-f]{32}\}$/);
    const keys = await client.keys('*');
    expect(keys).toContain(key);
    for (const name of keys) expect([key, `${key}:lock`]).toContain(name); // the lock, if still held
    expect(keys.join()).not.toContain(sim.clientId);
    // The same identity under another secret lives elsewhere: the name cannot be guessed from the id.
    expect(storeKey(providerFor(sim, { clientSecret: 'another-secret-entirely' }))).not.toBe(key);
    const raw = (await client.get(key))!;
    expect(raw).toMatch(/^tw2\.[\w-]{22}\.p[\w-]+$/);
    for (const needle of [value, sim.clientId, sim.url, sim.clientSecret]) expect(raw).not.toContain(needle);
    expect(Buffer.from(raw.split('.')[2]!.slice(1), 'base64url').toString('latin1')).not.toContain(value);
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
    expect(await own.get(storeKey(providerFor(sim)))).not.toBeNull();
    expect(sim.stats.expiredTokenSends).toBe(0);
    client = redis.client();
  }, 20_000);
});
