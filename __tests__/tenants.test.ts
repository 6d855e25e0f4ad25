// A shared store never hands one tenant another's token. Client ids are not
// secret: only a holder of the client secret can find, read or forge a stored token. Real Redis,
// real simulators on loopback.
import type Redis from 'ioredis';
import { TokenManager, clientCredentials, crowdstrike, memoryStore, storeKey, type TokenError, type TokenStore } from '../src';
import { redisStore } from '../src/redis';
import { keyring } from '../src/core/seal';
import { startSimulator } from '../src/testing';
import { accessTokenOf } from '../src/core/token';
import { providerFor, record, settle, track } from './helpers/setup';
import { describeWithRedis, useRedis } from './helpers/redis';

describeWithRedis('tenants of one Redis', () => {
  let client: Redis;
  useRedis((started) => (client = started));

  const shared = (): TokenStore => redisStore({ client });
  const make = (provider: ReturnType<typeof providerFor>, store = shared()) => {
    const tokens = new TokenManager({ provider, store, retry: { retries: 0 } });
    track(() => tokens.dispose());
    return tokens;
  };

  test.each(['crowdstrike', 'onelogin', 'oauth2'] as const)(
    '%s: a known client id with a wrong secret gets invalid_credentials, never the stored token',
    async (dialect) => {
      const sim = await startSimulator({ dialect });
      track(() => sim.close());
      const legitimate = make(providerFor(sim));
      const token = await legitimate.getToken();
      const intruder = make(providerFor(sim, { clientSecret: 'guessed-wrong-secret' }));
      const outcome = await settle(intruder.getToken());
      expect(outcome.ok).toBe(false);
      expect((outcome as { error: TokenError }).error.code).toBe('invalid_credentials');
      expect(sim.stats.tokenCalls).toBe(2); // the intruder had to ask the server, and was refused
      expect(await legitimate.getToken()).toBe(token); // and the legitimate token is untouched
      // Its API calls with that token: none, since it never had one.
      expect(sim.stats.apiCalls).toBe(0);
    },
  );

  test('the same in one process: a shared memoryStore keeps tenants apart too', async () => {
    const sim = await startSimulator({ dialect: 'crowdstrike' });
    track(() => sim.close());
    const store = memoryStore({ shared: true });
    await make(providerFor(sim), store).getToken();
    const outcome = await settle(make(providerFor(sim, { clientSecret: 'guessed-wrong-secret' }), store).getToken());
    expect((outcome as { error: TokenError }).error.code).toBe('invalid_credentials');
  });

  test("identities are encoded unambiguously: scope 'a|b' + audience 'c' and scope 'a' + audience 'b|c' get a token each", async () => {
    const sim = await startSimulator({ dialect: 'oauth2' });
    track(() => sim.close());
    const base = { tokenUrl: sim.tokenUrl, clientId: sim.clientId, clientSecret: sim.clientSecret };
    const one = make(clientCredentials({ ...base, scope: 'a|b', audience: 'c' }));
    const two = make(clientCredentials({ ...base, scope: 'a', audience: 'b|c' }));
    const [first, second] = [await one.getToken(), await two.getToken()];
    expect(first).not.toBe(second);
    expect(sim.stats.tokenCalls).toBe(2);
    expect(storeKey(clientCredentials({ ...base, scope: 'a|b', audience: 'c' }))).not.toBe(
      storeKey(clientCredentials({ ...base, scope: 'a', audience: 'b|c' })),
    );
  });

  test('an entry sealed under another secret, written to our key, is ignored (not an outage) and overwritten', async () => {
    const sim = await startSimulator({ dialect: 'oauth2' });
    track(() => sim.close());
    const provider = providerFor(sim);
    const ours = keyring(provider.identity, sim.clientSecret);
    // Someone who learnt our key name (KEYS *) plants a token sealed under a secret of theirs.
    const planted = keyring(provider.identity, 'the-planters-secret').seal({
      token: accessTokenOf({ accessToken: 'planted-token', tokenType: 'Bearer', issuedAt: Date.now(), expiresAt: Date.now() + 600_000 }),
    });
    await shared().set(ours.key, planted, 600_000);
    const tokens = make(provider);
    const events = record(tokens);
    const token = await tokens.getToken();
    expect(token).not.toBe('planted-token');
    expect(sim.stats.tokenCalls).toBe(1);
    expect(events.error).toEqual([]); // an entry we cannot open is no token, not a store failure
    const now = await shared().get(ours.key);
    expect(ours.open(now!)?.token.accessToken).toBe(token); // ours replaced it
  });

  test.each([
    [
      'an entry in the old (v1) format',
      'tw1.AAAAAAAAAAAAAAAAAAAAAA.p' + Buffer.from('{"a":"old-token","t":"Bearer","e":9999999999999,"i":0}').toString('base64url'),
    ],
    ['garbage', 'not a token at all'],
  ])('%s at our key is ignored and overwritten', async (_name, raw) => {
    const sim = await startSimulator({ dialect: 'crowdstrike' });
    track(() => sim.close());
    const provider = providerFor(sim);
    await client.set(storeKey(provider), raw, 'PX', 600_000);
    const tokens = make(provider);
    const events = record(tokens);
    const token = await tokens.getToken();
    expect(sim.stats.tokenCalls).toBe(1);
    expect(events.error).toEqual([]);
    await tokens.getToken();
    expect(await client.get(storeKey(provider))).toMatch(/^tw2\./);
    // A second replica now adopts the token the first one wrote: sharing works again.
    expect(await make(provider).getToken()).toBe(token);
    expect(sim.stats.tokenCalls).toBe(1);
  });

  test('an entry without a TTL (one tokenwarden never writes) is not trusted for any expiry: ignored and overwritten', async () => {
    const sim = await startSimulator({ dialect: 'oauth2' });
    track(() => sim.close());
    const provider = providerFor(sim);
    const keys = keyring(provider.identity, sim.clientSecret);
    const forever = keys.seal({
      token: accessTokenOf({ accessToken: 'immortal-token', tokenType: 'Bearer', issuedAt: Date.now(), expiresAt: Date.now() + 600_000 }),
    });
    await client.set(keys.key, `tw2.${forever.tag}.p${forever.sealed}`); // no PX
    const token = await make(provider).getToken();
    expect(token).not.toBe('immortal-token');
    expect(sim.stats.tokenCalls).toBe(1);
    expect(await client.pttl(keys.key)).toBeGreaterThan(0);
  });

  test('a reader of Redis without the secret learns nothing: not the token, the tenant, the scope or the API', async () => {
    const sim = await startSimulator({ dialect: 'oauth2' });
    track(() => sim.close());
    const provider = clientCredentials({
      tokenUrl: sim.tokenUrl,
      clientId: sim.clientId,
      clientSecret: sim.clientSecret,
      scope: 'devices:read',
      baseUrl: sim.url,
    });
    const token = await make(provider).getToken();
    const names = await client.keys('*');
    const dump = (await Promise.all(names.map((name) => client.get(name)))).join('\n') + names.join('\n');
    for (const needle of [token, sim.clientId, 'devices:read', sim.url, sim.tokenUrl]) expect(dump).not.toContain(needle);
    const decoded = dump
      .split(/[.\n]/)
      .map((part) => Buffer.from(part.replace(/^[pe]/, ''), 'base64url').toString('latin1'))
      .join('\n');
    for (const needle of [token, 'devices:read', sim.url]) expect(decoded).not.toContain(needle);
  });

  test('a provider without storeSecret() cannot be given a store', () => {
    const { storeSecret: _secret, ...bare } = crowdstrike({ clientId: 'abc123', clientSecret: 'a-secret-value', baseUrl: 'http://127.0.0.1:1' });
    expect(() => new TokenManager({ provider: bare, store: shared() })).toThrow(/no storeSecret\(\)/);
    const alone = new TokenManager({ provider: bare }); // its own private store is fine
    track(() => alone.dispose());
  });

  test('a key of another type at our key (a planted hash) is no token and no outage: replaced by the next token', async () => {
    const sim = await startSimulator({ dialect: 'oauth2' });
    track(() => sim.close());
    const provider = providerFor(sim);
    await client.hset(storeKey(provider), 'planted', 'x');
    const replicas = Array.from({ length: 5 }, () => make(provider));
    const events = replicas.map(record);
    const first = await replicas[0]!.getToken();
    for (const replica of replicas.slice(1)) expect(await replica.getToken()).toBe(first);
    expect(sim.stats.tokenCalls).toBe(1);
    expect(events.flatMap((e) => e.error)).toEqual([]);
    expect(await client.type(storeKey(provider))).toBe('string');
  });

  test('a huge value at our key is not read in full: ignored and replaced', async () => {
    const sim = await startSimulator({ dialect: 'oauth2' });
    track(() => sim.close());
    const provider = providerFor(sim);
    await client.set(storeKey(provider), `tw2.${'A'.repeat(22)}.p${'A'.repeat(4 * 1024 * 1024)}`, 'PX', 600_000);
    const tokens = make(provider);
    const events = record(tokens);
    const token = await tokens.getToken();
    expect(events.error).toEqual([]);
    expect(await make(provider).getToken()).toBe(token); // the second replica reads ours
    expect(sim.stats.tokenCalls).toBe(1);
    expect(await client.strlen(storeKey(provider))).toBeLessThan(32 * 1024);
  });

  test('a lock planted without an expiry is no holder: taken over, so sharing goes on with one token call', async () => {
    const sim = await startSimulator({ dialect: 'oauth2' });
    track(() => sim.close());
    const provider = providerFor(sim);
    await client.set(`${storeKey(provider)}:lock`, 'planted-for-ever');
    const started = Date.now();
    const replicas = Array.from({ length: 3 }, () => make(provider));
    const tokens = await Promise.all(replicas.map((replica) => replica.getToken()));
    expect(new Set(tokens).size).toBe(1);
    expect(sim.stats.tokenCalls).toBe(1);
    expect(Date.now() - started).toBeLessThan(5_000); // not the 15 s a live holder would be given
  });

  test("an entry's length says nothing of the cloud or the scope", async () => {
    const keys = keyring('identity', 'a-secret');
    const token = (scope: string | undefined) =>
      accessTokenOf({ accessToken: 'tok-'.padEnd(40, 'x'), tokenType: 'Bearer', issuedAt: 1, expiresAt: 2, ...(scope && { scope }) });
    const lengths = [
      keys.seal({ token: token(undefined), state: { cloud: 'us-1' } }),
      keys.seal({ token: token(undefined), state: { cloud: 'us-gov-1' } }),
      keys.seal({ token: token('read'), state: { cloud: 'us-2' } }),
      keys.seal({ token: token('read write admin'), state: { cloud: 'us-2' } }),
    ].map((entry) => entry.sealed.length);
    expect(new Set(lengths).size).toBe(1);
  });

  test('an identity of any length works (HKDF takes at most 1 KiB of context): 60 URL scopes, with a store', async () => {
    const sim = await startSimulator({ dialect: 'oauth2' });
    track(() => sim.close());
    const scope = Array.from({ length: 60 }, (_, i) => `https://api.example.com/scopes/resource-${i}.read`);
    const provider = clientCredentials({ tokenUrl: sim.tokenUrl, clientId: sim.clientId, clientSecret: sim.clientSecret, scope });
    expect(provider.identity.length).toBeGreaterThan(1_024);
    expect(storeKey(provider)).toMatch(/^tokenwarden:v2:\{[0-9a-f]{32}\}$/);
    expect(await make(provider).getToken()).toEqual(expect.any(String));
  });

  test('each guess at a secret costs a key stretch (scrypt): a key name is no cheap offline oracle', () => {
    const started = performance.now();
    for (let i = 0; i < 10; i++) keyring('["oauth2","https://a.example/token","id",null,null]', `guess-${i}-${Math.random()}`);
    // About 30 ms each on the project machine; unstretched, ten take well under a millisecond.
    expect(performance.now() - started).toBeGreaterThan(50);
  });
});
