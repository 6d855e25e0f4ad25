// Axios integration and the bearer goes only where it belongs.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, TokenError, TokenManager } from '../src';
import { installFakeTime } from './helpers/fake-time';
import { FAST_RETRY, axios, cleanup, echoServer, providerFor, rig, settle, sleep, track } from './helpers/setup';

afterEach(cleanup);

/** Handlers axios still holds (ejected ones become null). */
const live = (manager: { handlers?: unknown[] }) => (manager.handlers ?? []).filter(Boolean).length;

/** An API on an allowed origin that refuses every token. */
async function alwaysUnauthorized() {
  let calls = 0;
  const server = createServer((_req, res) => {
    calls++;
    res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"message":"Unauthorized"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  track(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls: () => calls };
}

describe('axios integration', () => {
  test('requests carry the current token as a Bearer header', async () => {
    const { sim, tokens, api } = await rig('crowdstrike');
    const response = await api.get('/devices/queries/devices/v1');
    expect(response.status).toBe(200);
    expect(response.config.headers.Authorization).toBe(`Bearer ${await tokens.getToken()}`);
    expect(sim.stats.apiOk).toBe(1);
  });

  test('a replay that is refused again goes back to the caller as it is: no loop', async () => {
    const denying = await alwaysUnauthorized();
    const { sim, tokens, api, events } = await rig('oauth2', {}, { allowedOrigins: [denying.url] });
    const outcome = await settle(api.get(`${denying.url}/resource`));
    expect(outcome.ok).toBe(false);
    const error = (outcome as { error: { response?: { status: number } } }).error;
    expect(axios.isAxiosError(error)).toBe(true);
    expect(error.response?.status).toBe(401);
    expect(denying.calls()).toBe(2); // the request and its one replay
    // An API that refuses for reasons of its own does not cost a second refresh: the token the
    // replay carried stays in use (a request that is refused with it next time refreshes again).
    expect(sim.stats.tokenCalls).toBe(2); // the first token and one refresh
    const [, second] = events.refresh.map((e) => e.token.accessToken);
    expect(await tokens.getToken()).toBe(second);
    expect(sim.stats.tokenCalls).toBe(2);
  });

  test('token calls are made on a private instance: global interceptors never see them, and the token instance cannot be attached', async () => {
    let seenByDefault = 0;
    const id = axios.interceptors.request.use((config) => {
      seenByDefault++;
      return config;
    });
    try {
      const { tokens } = await rig('crowdstrike');
      await tokens.getToken();
      expect(seenByDefault).toBe(0);
    } finally {
      axios.interceptors.request.eject(id);
    }
    const http = axios.create();
    const { sim } = await rig('oauth2');
    const own = new TokenManager({ provider: providerFor(sim), http });
    track(() => own.dispose());
    expect(() => own.attach(http)).toThrow(ConfigError);
  });

  test('one manager, several instances; detach() ejects exactly its own interceptors', async () => {
    const { sim, tokens, api } = await rig('onelogin');
    const other = axios.create({ baseURL: sim.url });
    other.interceptors.request.use((config) => config); // the user's own
    other.interceptors.response.use((response) => response);
    const detach = tokens.attach(other);
    expect(tokens.attach(other)).toBe(detach); // attaching twice changes nothing
    expect(live(other.interceptors.request as never)).toBe(2);
    expect(live(other.interceptors.response as never)).toBe(2);
    await other.get('/api/2/users');
    await api.get('/api/2/users');
    expect(sim.stats.apiOk).toBe(2);
    detach();
    detach(); // idempotent
    expect(live(other.interceptors.request as never)).toBe(1);
    expect(live(other.interceptors.response as never)).toBe(1);
    await settle(other.get('/api/2/users'));
    expect(sim.stats.missingTokenSends).toBe(1); // detached: no bearer any more
    expect((await api.get('/api/2/users')).status).toBe(200); // the other instance is untouched
  });

  test('a request whose token cannot be had rejects with that TokenError, code intact', async () => {
    const { sim, api } = await rig('crowdstrike', {}, { clientSecret: 'wrong-secret-for-this-test' });
    const outcome = await settle(api.get('/devices/queries/devices/v1'));
    const error = (outcome as { error: unknown }).error;
    expect(error).toBeInstanceOf(TokenError);
    expect(axios.isAxiosError(error)).toBe(false);
    expect((error as TokenError).code).toBe('invalid_credentials');
    expect(sim.stats.apiCalls).toBe(0);
  });

  test("a caller's abort cancels its own request (as axios does) and the shared token call goes on", async () => {
    const { sim, tokens, api } = await rig('oauth2', { latencyMs: 300 });
    const controller = new AbortController();
    const aborted = settle(api.get('/x', { signal: controller.signal }));
    const patient = settle(api.get('/y'));
    await sleep(50);
    controller.abort();
    const outcome = await aborted;
    expect(axios.isCancel((outcome as { error: unknown }).error)).toBe(true);
    expect(((await patient) as { value: { status: number } }).value.status).toBe(200);
    expect(sim.stats.apiCalls).toBe(1); // the aborted request never went out
    expect(sim.stats.tokenCalls).toBe(1);
    await expect(tokens.getToken({ signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'aborted' });
  });
});

test('two managers on one instance: each answers the 401s of its own API only', async () => {
  const { sim: a, tokens: first } = await rig('oauth2');
  const { sim: b, tokens: second } = await rig('crowdstrike');
  const api = axios.create();
  // b first: its response interceptor sees every error before a's does.
  second.attach(api);
  first.attach(api);
  await api.get(`${a.url}/x`);
  await api.get(`${b.url}/devices/queries/devices/v1`);
  const [aCalls, bCalls] = [a.stats.tokenCalls, b.stats.tokenCalls];
  a.revokeAll();
  const response = await api.get(`${a.url}/x`);
  expect(response.status).toBe(200); // a refreshed and replayed
  expect(a.stats.tokenCalls).toBe(aCalls + 1);
  expect(b.stats.tokenCalls).toBe(bCalls); // b kept its token
  expect((await api.get(`${b.url}/devices/queries/devices/v1`)).status).toBe(200);
  expect(b.stats.api401).toBe(0);
});

test("a request's timeout counts its wait for a token, and the shared refresh goes on (simulated time)", async () => {
  const time = installFakeTime();
  try {
    const { sim, tokens, api } = await rig('oauth2', { latencyMs: 1_500 });
    const started = Date.now();
    const outcome = await time.run(settle(api.get('/x', { timeout: 300 })), 5_000, 10);
    const error = (outcome as { error: { code?: string; message: string } }).error;
    expect(axios.isAxiosError(error)).toBe(true);
    expect(error.code).toBe('ECONNABORTED');
    expect(error.message).toMatch(/timeout of 300ms exceeded while waiting for a token/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(Date.now() - started).toBeLessThanOrEqual(320); // the request's 300 ms, not the token call's 1.5 s
    expect(await time.run(tokens.getToken(), 5_000, 10)).toEqual(expect.any(String)); // the refresh finished for others
    expect(sim.stats.tokenCalls).toBe(1);
    expect((await time.run(api.get('/y', { timeout: 300 }), 5_000, 10)).status).toBe(200); // with a token in hand, the timeout is the request's
    await time.run(cleanup());
  } finally {
    time.uninstall();
  }
});

describe('the bearer goes only where it belongs', () => {
  test('a request to another origin goes out without it', async () => {
    const elsewhere = await echoServer();
    const { api } = await rig('crowdstrike');
    await api.get(`${elsewhere.url}/collect`);
    expect(elsewhere.seen).toEqual([{ path: '/collect', authorization: undefined }]);
  });

  test('absolute URLs on the API origin get it, spelled however the WHATWG parser accepts', async () => {
    const { sim, api } = await rig('oauth2');
    await api.get(`${sim.url}/a`);
    await api.get(`${sim.url.replace('http://', 'HTTP://')}/b`);
    await api.get(`${sim.url}?c=1`);
    expect(sim.stats.apiOk).toBe(3);
  });

  test("user info in a URL does not fool the check (the request goes to the host after '@')", async () => {
    const elsewhere = await echoServer();
    const { sim, api } = await rig('oauth2');
    const host = sim.url.replace('http://', '');
    await api.get(`${elsewhere.url.replace('http://', `http://${host}@`)}/steal`);
    expect(elsewhere.seen).toHaveLength(1);
    expect(elsewhere.seen[0]!.authorization ?? '').not.toMatch(/^Bearer/);
  });

  test("the instance's own baseURL and allowedOrigins receive it", async () => {
    const own = await echoServer();
    const extra = await echoServer();
    const { sim, tokens } = await rig('oauth2', {}, { allowedOrigins: [`${extra.url}/any/path`] });
    const api = axios.create({ baseURL: `${own.url}/v1` });
    tokens.attach(api);
    await api.get('/things');
    await api.get(`${extra.url}/x`);
    const bearer = `Bearer ${await tokens.getToken()}`;
    expect(own.seen).toEqual([{ path: '/v1/things', authorization: bearer }]);
    expect(extra.seen).toEqual([{ path: '/x', authorization: bearer }]);
    expect(sim.stats.apiCalls).toBe(0);
  });

  test('an Authorization header the caller set is left alone', async () => {
    const own = await echoServer();
    const { tokens } = await rig('oauth2');
    const api = axios.create({ baseURL: own.url });
    tokens.attach(api);
    await api.get('/a', { headers: { Authorization: 'Basic dXNlcjpwYXNz' } });
    await api.get('/b', { headers: { authorization: 'Bearer my-own' } });
    expect(own.seen.map((s) => s.authorization)).toEqual(['Basic dXNlcjpwYXNz', 'Bearer my-own']);
  });

  test('relative URLs on an instance without baseURL go to tokens.baseUrl', async () => {
    const { sim, tokens } = await rig('crowdstrike');
    const api = axios.create();
    tokens.attach(api);
    const response = await api.get('/sensors/queries/installers/v1');
    expect(response.config.baseURL).toBe(tokens.baseUrl);
    expect(tokens.baseUrl).toBe(sim.url);
    expect(sim.stats.apiOk).toBe(1);
  });

  test('no token call at all for a request that would not carry the token', async () => {
    const elsewhere = await echoServer();
    const { sim, tokens } = await rig('crowdstrike', {}, { retry: FAST_RETRY });
    const api = axios.create();
    tokens.attach(api);
    sim.denyAccess = true; // a token call would fail this request
    await expect(api.get(`${elsewhere.url}/public`)).resolves.toMatchObject({ status: 200 });
    expect(sim.stats.tokenCalls).toBe(0);
  });
});
