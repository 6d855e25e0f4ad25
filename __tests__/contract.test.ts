// Contract bugs. The interceptors with the caller's own header, after dispose,
// with a re-sent error config and with URL objects; a token that dies at a whole second; the store
// and lifecycle corners; options that TypeScript would have refused.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, TokenError, TokenManager, clientCredentials, crowdstrike, memoryStore, onelogin, type TokenStore } from '../src';
import { redisStore } from '../src/redis';
import { startSimulator } from '../src/testing';
import { installFakeTime, watch } from './helpers/fake-time';
import { FAST_RETRY, axios, cleanup, echoServer, providerFor, record, rig, settle, track } from './helpers/setup';
import { describeWithRedis, startRedis, type RedisServer } from './helpers/redis';

afterEach(cleanup);

const live = (manager: { handlers?: unknown[] }) => (manager.handlers ?? []).filter(Boolean).length;

describe('the interceptors', () => {
  test("a request with the caller's own Authorization and a relative URL still goes to tokens.baseUrl", async () => {
    const { sim, tokens } = await rig('crowdstrike');
    const api = axios.create();
    tokens.attach(api);
    const outcome = await settle(api.get('/devices/queries/devices/v1', { headers: { Authorization: 'Bearer caller-own' } }));
    // The API refuses a token it never issued: the request got there, with the caller's header.
    const error = (outcome as { error: { config: { baseURL?: string; headers: Record<string, unknown> }; response?: { status: number } } }).error;
    expect(error.response?.status).toBe(401);
    expect(error.config.baseURL).toBe(sim.url);
    expect(error.config.headers['Authorization']).toBe('Bearer caller-own');
    expect(sim.stats.unknownTokenSends).toBe(1);
    expect(sim.stats.tokenCalls).toBe(0); // no token call, and no replay of a 401 that was not for our token
  });

  test('after dispose, a request for the API rejects with TokenError disposed; other requests pass; detach() lifts the guard', async () => {
    const elsewhere = await echoServer();
    const { sim, tokens, api } = await rig('oauth2');
    await api.get('/x');
    await tokens.dispose();
    for (const request of [api.get('/relative'), api.get(`${sim.url}/absolute`)]) {
      const outcome = await settle(request);
      expect((outcome as { error: unknown }).error).toBeInstanceOf(TokenError);
      expect((outcome as { error: TokenError }).error.code).toBe('disposed');
    }
    expect(sim.stats.apiCalls).toBe(1); // neither went out
    expect((await api.get(`${elsewhere.url}/public`)).status).toBe(200);
    expect(elsewhere.seen[0]!.authorization).toBeUndefined();
    // A manager attached afterwards takes the guard's place.
    const next = new TokenManager({ provider: providerFor(sim), retry: FAST_RETRY });
    track(() => next.dispose());
    const detach = next.attach(api);
    expect(live(api.interceptors.request as never)).toBe(1);
    expect((await api.get('/y')).status).toBe(200);
    detach();
    expect(live(api.interceptors.request as never)).toBe(0);
  });

  test('detach() of a disposed manager removes its guard', async () => {
    const { tokens } = await rig('oauth2');
    const api = axios.create();
    const detach = tokens.attach(api);
    await tokens.dispose();
    expect(live(api.interceptors.request as never)).toBe(1);
    detach();
    expect(live(api.interceptors.request as never)).toBe(0);
  });

  test('the redaction placeholder is never sent: a re-sent error config carries our token only where it may go', async () => {
    const failing = createServer((_req, res) => void res.writeHead(503).end());
    await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
    track(
      () =>
        new Promise<void>((resolve) => {
          failing.close(() => resolve());
          failing.closeAllConnections();
        }),
    );
    const flaky = `http://127.0.0.1:${(failing.address() as AddressInfo).port}`;
    const elsewhere = await echoServer();
    const { api } = await rig('oauth2', {}, { allowedOrigins: [flaky] });
    const first = await settle(api.get(`${flaky}/x`));
    const config = (first as { error: { config: { headers: Record<string, unknown> } } }).error.config;
    expect(config.headers['Authorization']).toBe('Bearer [redacted by tokenwarden]');
    // Re-sent to an origin the token may not go to: no Authorization at all.
    await api.request({ ...(config as object), url: `${elsewhere.url}/resent`, baseURL: undefined });
    // The placeholder copied by hand into a new request's headers is dropped too.
    await api.get(`${elsewhere.url}/copied`, { headers: { Authorization: config.headers['Authorization'] as string } });
    // And from an instance without us attached, the config carries no header either.
    await axios.request({ ...(config as object), url: `${elsewhere.url}/plain`, baseURL: undefined });
    expect(elsewhere.seen.map((s) => [s.path, s.authorization])).toEqual([
      ['/resent', undefined],
      ['/copied', undefined],
      ['/plain', undefined],
    ]);
  });

  test('url: new URL(...) works as with bare axios, and the bearer still goes only to the API', async () => {
    const elsewhere = await echoServer();
    const { sim, api } = await rig('oauth2');
    const response = await api.request({ url: new URL('/things', sim.url) as unknown as string });
    expect(response.status).toBe(200);
    expect(sim.stats.apiOk).toBe(1);
    await api.request({ url: new URL('/other', elsewhere.url) as unknown as string });
    expect(elsewhere.seen).toEqual([{ path: '/other', authorization: undefined }]);
  });
});

test('a server that rounds issue times down to the second: no token is sent after it died, even when every refresh fails', async () => {
  // The first token is asked for at .990 of a second: the server counts its life from .000.
  const time = installFakeTime(Date.parse('2026-01-05T00:00:00.990Z'));
  const sim = await startSimulator({ dialect: 'oauth2', tokenLifetimeSeconds: 4, roundIssuedAt: true });
  const tokens = new TokenManager({ provider: providerFor(sim), retry: FAST_RETRY });
  tokens.on('error', () => undefined);
  const api = axios.create();
  tokens.attach(api);
  try {
    const first = watch(tokens.getToken());
    await time.settle(() => first.done); // issued with the clock standing at .990
    expect(sim.stats.tokenCallLog[0]!.at % 1_000).toBe(990);
    sim.setFaultPolicy(() => 500); // no refresh ever succeeds: the first token is used to its end
    let ok = 0;
    for (let i = 0; i < 100; i++) {
      const sent = watch(api.get('/v1/things'));
      await time.advance(50, 10);
      await time.until(() => sent.done, 5_000, 10);
      if (sent.value !== undefined) ok++;
    }
    expect(ok).toBeGreaterThan(50); // it was used until its margin...
    expect(sim.stats.expiredTokenSends).toBe(0); // ...and never after the server let it die
  } finally {
    await tokens.dispose({ revoke: false });
    time.uninstall();
    await sim.close();
  }
});

describe('store and lifecycle', () => {
  test('a dispose during a refresh gives the shared lock up at once: the next manager does not wait out a back-off', async () => {
    const time = installFakeTime();
    const sim = await startSimulator({ dialect: 'oauth2', latencyMs: 3_000 });
    const store = memoryStore({ shared: true });
    const first = new TokenManager({ provider: providerFor(sim), store });
    const second = new TokenManager({ provider: providerFor(sim), store });
    const errors = record(first).error;
    try {
      void first.getToken().catch(() => undefined);
      await time.advance(100);
      const disposing = watch(first.dispose());
      const waiting = watch(second.getToken());
      await time.until(() => disposing.done, 5_000);
      await time.until(() => sim.stats.tokenCalls === 2, 5_000, 10);
      const [a, b] = sim.stats.tokenCallLog.map((call) => call.at);
      // The first call is cut off after dispose's 1 s grace; the lock goes with it.
      expect(b! - a!).toBeLessThanOrEqual(1_100 + 250 + 50);
      expect(errors).toEqual([]); // a dispose is not a failed refresh
      await time.until(() => waiting.done, 10_000);
      expect(waiting.value).toEqual(expect.any(String));
    } finally {
      await time.advance(2_000);
      void second.dispose({ revoke: false });
      await time.advance(1_500);
      time.uninstall();
      await sim.close();
    }
  });

  test("the memory store's lock is renewed while held: a refresh longer than the lease keeps single flight", async () => {
    const time = installFakeTime();
    try {
      const store = memoryStore();
      const lock = await store.lock!('k');
      expect(lock).toBeDefined();
      await time.advance(45_000, 1_000); // past the 30 s lease
      expect(await store.lock!('k')).toBeUndefined();
      await lock!.release();
      expect(await store.lock!('k')).toBeDefined();
    } finally {
      time.uninstall();
    }
  });

  test('no lock command goes to a store that is marked down', async () => {
    const sim = await startSimulator({ dialect: 'oauth2', tokenLifetimeSeconds: 2 });
    track(() => sim.close());
    let locks = 0;
    const broken: TokenStore = {
      shared: true,
      get: () => Promise.reject(new Error('store is down')),
      set: () => Promise.reject(new Error('store is down')),
      delete: () => Promise.reject(new Error('store is down')),
      lock: () => {
        locks++;
        return Promise.reject(new Error('store is down'));
      },
    };
    const tokens = new TokenManager({ provider: providerFor(sim), store: broken });
    track(() => tokens.dispose());
    const events = record(tokens);
    await tokens.getToken();
    await tokens.refresh();
    await tokens.refresh();
    expect(sim.stats.tokenCalls).toBe(3);
    expect(locks).toBe(0);
    expect(events.error.map((e) => e.code)).toEqual(['store_unavailable']);
  });

  test('onelogin: a failed revoke of a token the API refused is tried again, not taken as done', async () => {
    const refusing = createServer((_req, res) => void res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"message":"Unauthorized"}'));
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    track(
      () =>
        new Promise<void>((resolve) => {
          refusing.close(() => resolve());
          refusing.closeAllConnections();
        }),
    );
    const url = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}`;
    const { sim, tokens, api } = await rig('onelogin', {}, { allowedOrigins: [url] });
    const old = await tokens.getToken();
    sim.failNextRevoke(1, 500);
    await settle(api.get(`${url}/refuses`)); // 401: the token is dropped, then revoked before rotation
    expect(sim.stats.revokeCalls).toBe(2); // the failed revoke was tried again...
    expect(sim.isLive(old)).toBe(false); // ...until the server really revoked it
    expect(await tokens.getToken()).not.toBe(old); // so the endpoint handed out a new token
  });
});

describeWithRedis('store corners on a real Redis', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis.stop());

  test('an entry that cannot be opened is not an outage: no store_unavailable, and sharing goes on', async () => {
    const client = redis.client();
    const sim = await startSimulator({ dialect: 'oauth2' });
    track(() => sim.close());
    const a = new TokenManager({ provider: providerFor(sim), store: redisStore({ client, encryptionKey: Buffer.alloc(32, 1) }) });
    const b = new TokenManager({ provider: providerFor(sim), store: redisStore({ client, encryptionKey: Buffer.alloc(32, 2) }) });
    track(() => a.dispose());
    track(() => b.dispose());
    const [aEvents, bEvents] = [record(a), record(b)];
    await a.getToken();
    await b.getToken(); // cannot read a's entry (another encryptionKey): fetches and overwrites
    expect(sim.stats.tokenCalls).toBe(2);
    expect([...aEvents.error, ...bEvents.error]).toEqual([]);
  });
});

describe('options', () => {
  test.each([
    [
      'refreshWindow',
      () => new TokenManager({ provider: crowdstrike({ clientId: 'a', clientSecret: 'b' }), refreshWindow: 1 } as never),
      'refreshWindow',
      /did you mean refreshWindowMs\?/,
    ],
    [
      'retry.retry',
      () => new TokenManager({ provider: crowdstrike({ clientId: 'a', clientSecret: 'b' }), retry: { retry: 2 } } as never),
      'retry.retry',
      /did you mean retry\.retries\?/,
    ],
    ['clientSecrt', () => crowdstrike({ clientId: 'a', clientSecret: 'b', clientSecrt: 'c' } as never), 'clientSecrt', /did you mean clientSecret\?/],
    [
      'resources',
      () => clientCredentials({ tokenUrl: 'https://a.example/token', clientId: 'a', clientSecret: 'b', resources: 'https://api' } as never),
      'resources',
      /did you mean resource\?/,
    ],
    ['subdomian', () => onelogin({ clientId: 'a', clientSecret: 'b', subdomian: 'acme' } as never), 'subdomian', /did you mean subdomain\?/],
    ['redis encrypt', () => redisStore({ client: { get() {}, eval() {} }, encrypt: true } as never), 'encrypt', /unknown option "encrypt"/],
  ])('an unknown option (%s) is a ConfigError naming it and the closest valid one', (_name, make, option, says) => {
    let thrown: unknown;
    try {
      make();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).option).toBe(option);
    expect((thrown as ConfigError).message).toMatch(says);
  });

  test('a bad URL option is described, never quoted (a mistyped URL may still carry a credential)', () => {
    const attempts = [
      () => clientCredentials({ tokenUrl: 'htps://id:hunter2-secret@auth.example/token', clientId: 'a', clientSecret: 'b' }),
      () => clientCredentials({ tokenUrl: 'not a url hunter2-secret', clientId: 'a', clientSecret: 'b' }),
      () => new TokenManager({ provider: crowdstrike({ clientId: 'a', clientSecret: 'b' }), allowedOrigins: ['ftp://u:hunter2-secret@host'] }),
    ];
    for (const attempt of attempts) {
      expect(attempt).toThrow(ConfigError);
      expect(attempt).not.toThrow(/hunter2/);
    }
  });

  test('scope may be an array of scopes: sent space-joined', async () => {
    const sim = await startSimulator({ dialect: 'oauth2' });
    track(() => sim.close());
    const tokens = new TokenManager({
      provider: clientCredentials({ tokenUrl: sim.tokenUrl, clientId: sim.clientId, clientSecret: sim.clientSecret, scope: ['devices:read', 'hosts:write'] }),
    });
    track(() => tokens.dispose());
    const events = record(tokens);
    await tokens.getToken();
    expect(events.refresh[0]!.token.scope).toBe('devices:read hosts:write');
    expect(() => clientCredentials({ tokenUrl: sim.tokenUrl, clientId: 'a', clientSecret: 'b', scope: ['two words'] })).toThrow(/scope\[0\] must be one scope/);
    expect(() => clientCredentials({ tokenUrl: sim.tokenUrl, clientId: 'a', clientSecret: 'b', scope: [] })).toThrow(/empty array/);
  });
});
