// The client secret and access tokens never show in errors, events or the manager.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { TokenManager, crowdstrike, onelogin, clientCredentials, type TokenError } from '../src';
import { DIALECTS, cleanup, providerFor, record, rig, settle, sleep, track, type Recorded } from './helpers/setup';
import { startSimulator } from '../src/testing';

afterEach(cleanup);

/** Every way an object gets logged; `showHidden` digs into non-enumerable internals too. */
function renderings(value: unknown, showHidden = true): string[] {
  const out = [inspect(value, { depth: 10 }), inspect(value, { depth: Infinity }), JSON.stringify(value) ?? ''];
  if (showHidden) out.push(inspect(value, { depth: Infinity, showHidden: true }));
  if (value instanceof Error) out.push(value.message, value.stack ?? '', String(value));
  return out;
}

function leaks(values: readonly unknown[], needles: readonly string[], showHidden = true): string[] {
  const found: string[] = [];
  for (const value of values) {
    for (const text of renderings(value, showHidden)) {
      for (const needle of needles) if (needle && text.includes(needle)) found.push(`${needle.slice(0, 6)}… in ${text.slice(0, 120)}`);
    }
  }
  return found;
}

const basic = (id: string, secret: string) => Buffer.from(`${id}:${secret}`).toString('base64');

describe.each(DIALECTS)('%s: nothing secret in errors, events or the manager', (dialect) => {
  test('bad credentials, 429, 500, malformed answers, echoed secrets, revoke failure, dispose during refresh', async () => {
    const sim = await startSimulator({ dialect });
    track(() => sim.close());
    const wrong = 'WRONG-s3cret-that-must-not-leak';
    const secrets = [sim.clientSecret, wrong, basic(sim.clientId, sim.clientSecret), basic(sim.clientId, wrong), encodeURIComponent(sim.clientSecret)];
    const errors: unknown[] = [];
    const payloads: unknown[] = [];
    const managers: TokenManager[] = [];
    const make = (secret = sim.clientSecret) => {
      const tokens = new TokenManager({ provider: providerFor(sim, { clientSecret: secret }), retry: { retries: 1, minTimeout: 5, maxTimeout: 5 } });
      const events: Recorded = record(tokens);
      managers.push(tokens);
      payloads.push(events.error);
      return { tokens, events };
    };
    const failing = async (arrange: () => void, secret?: string) => {
      arrange();
      const { tokens } = make(secret);
      const outcome = await settle(tokens.getToken());
      expect(outcome.ok).toBe(false);
      errors.push((outcome as { error: unknown }).error);
      await tokens.dispose();
    };

    await failing(() => undefined, wrong);
    await failing(() => sim.failNext(2, { rateLimitSeconds: 0 }));
    await failing(() => sim.failNext(2, 500));
    await failing(() => sim.failNext(2, 'reset'));
    const leakyToken = 'tok_THIS-IS-AN-ACCESS-TOKEN-THAT-MUST-NOT-LEAK';
    await failing(() => sim.failNext(1, { status: 200, body: JSON.stringify({ access_token: leakyToken, token_type: 'bearer', expires_in: -1 }) }));
    await failing(() => sim.failNext(1, { status: 200, body: JSON.stringify({ access_token: leakyToken, token_type: 'mac', expires_in: 60 }) }));
    await failing(() => sim.failNext(1, { status: 200, body: `<html>${leakyToken}</html>`, contentType: 'text/html' }));
    // A server that echoes the credentials in its error message.
    const echo = `client_secret=${sim.clientSecret} auth=Basic ${basic(sim.clientId, sim.clientSecret)}`;
    await failing(() =>
      sim.failNext(1, {
        status: 400,
        body: JSON.stringify({ errors: [{ message: echo }], status: { message: echo }, error: 'invalid_request', error_description: echo }),
      }),
    );

    // A revoke that fails on dispose, and a dispose in the middle of a refresh.
    const { tokens: revoking, events: revokeEvents } = make();
    const issued: string[] = [await revoking.getToken()];
    sim.failNextRevoke(1, 500);
    await revoking.dispose();
    expect(revokeEvents.error.map((e) => e.code)).toEqual(['server_error']);
    sim.latencyMs = 200;
    const { tokens: midway, events: midwayEvents } = make();
    const pending = settle(midway.getToken());
    await sleep(50);
    await midway.dispose();
    errors.push(((await pending) as { error: unknown }).error);
    sim.latencyMs = 0;
    issued.push(...midwayEvents.refresh.map((e) => e.token.accessToken));

    // And a healthy manager, inspected while it holds a token.
    const { tokens: healthy, events: healthyEvents } = make();
    issued.push(await healthy.getToken());
    const views = [healthy, providerFor(sim)];
    issued.push(...healthyEvents.refresh.map((e) => e.token.accessToken));

    const codes = errors.map((e) => (e as TokenError).code);
    expect(codes).toEqual([
      'invalid_credentials',
      'rate_limited',
      'server_error',
      'network_error',
      'invalid_response',
      'invalid_response',
      'invalid_response',
      'forbidden',
      'disposed',
    ]);
    const echoed = errors[7] as TokenError;
    expect(echoed.providerMessage).toContain('[redacted]');
    expect(leaks([...errors, ...payloads, ...views, ...managers], [...secrets, leakyToken, ...issued])).toEqual([]);
    await healthy.dispose();
  });
});

test('a token handed to a refresh listener prints redacted, but its value is there to use', async () => {
  const { tokens, events } = await rig('oauth2');
  const value = await tokens.getToken();
  const token = events.refresh[0]!.token;
  expect(token.accessToken).toBe(value);
  expect(inspect(token)).not.toContain(value);
  expect(inspect(token)).toContain('[redacted]');
  expect(Object.isFrozen(token)).toBe(true);
});

test('providers keep credentials out of their printed form', () => {
  const secret = 'provider-secret-value-1234';
  const providers = [
    crowdstrike({ clientId: 'abc123', clientSecret: secret }),
    onelogin({ clientId: 'abc', clientSecret: secret, subdomain: 'acme' }),
    clientCredentials({ clientId: 'abc', clientSecret: secret, tokenUrl: 'https://auth.example.com/token' }),
  ];
  expect(leaks(providers, [secret, basic('abc', secret), basic('abc123', secret)])).toEqual([]);
});

test('a server that echoes the secret URL- or form-encoded gets it redacted too', async () => {
  const sim = await startSimulator({ dialect: 'oauth2', clientSecret: 'p@ss w/rd+&=x%' });
  track(() => sim.close());
  const echoed = [sim.clientSecret, encodeURIComponent(sim.clientSecret), new URLSearchParams({ s: sim.clientSecret }).toString().slice(2)];
  sim.failNext(1, { status: 400, body: JSON.stringify({ error: 'invalid_request', error_description: `got ${echoed.join(' and ')}` }) });
  const tokens = new TokenManager({ provider: providerFor(sim), retry: { retries: 0 } });
  track(() => tokens.dispose());
  const error = ((await settle(tokens.getToken())) as { error: TokenError }).error;
  expect(error.providerMessage).toMatch(/\[redacted\] and \[redacted\] and \[redacted\]/);
  expect(leaks([error], echoed)).toEqual([]);
});

test('a network error names the host, not the request', async () => {
  const tokens = new TokenManager({
    provider: crowdstrike({ clientId: 'abc123', clientSecret: 'network-error-secret', baseUrl: 'http://127.0.0.1:1' }),
    retry: { retries: 0 },
  });
  track(() => tokens.dispose());
  const outcome = await settle(tokens.getToken());
  const error = (outcome as { error: TokenError }).error;
  expect(error.code).toBe('network_error');
  expect(error.message).toMatch(/could not reach http:\/\/127\.0\.0\.1:1/);
  expect(leaks([error], ['network-error-secret', basic('abc123', 'network-error-secret')])).toEqual([]);
});

describe('errors from an attached instance do not print the bearer', () => {
  async function failingApi(status: number) {
    const server = createServer((_req, res) => void res.writeHead(status, { 'Content-Type': 'application/json' }).end('{"message":"no"}'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    track(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  test.each([
    ['a 500 from the API', 500],
    ['a 401 that the replay did not cure', 401],
  ])('%s', async (_name, status) => {
    const url = await failingApi(status);
    const { tokens, api, events } = await rig('oauth2', {}, { allowedOrigins: [url] });
    const outcome = await settle(api.get(`${url}/things`));
    const error = (outcome as { error: { config: { headers: Record<string, unknown> }; request?: unknown; response?: { status: number } } }).error;
    expect(error.response?.status).toBe(status);
    expect(error.request).toBeDefined(); // still there for code that reads it
    const issued = events.refresh.map((e) => e.token.accessToken);
    expect(issued.length).toBeGreaterThan(0);
    // axios's own request object (still reachable, now non-enumerable) keeps the raw header text:
    // what loggers print (inspect, JSON) is clean; `showHidden` would dig it out of Node internals.
    expect(leaks([error], issued, false)).toEqual([]);
    await tokens.getToken();
  });

  test('a retry library that sends error.config again gets the current token back on it', async () => {
    const flaky = await failingApi(503);
    const { sim, api } = await rig('crowdstrike', {}, { allowedOrigins: [flaky] });
    const first = await settle(api.get('/devices/queries/devices/v1', { baseURL: flaky }));
    expect(first.ok).toBe(false);
    const config = (first as { error: { config: { headers: { Authorization?: unknown } } } }).error.config;
    expect(config.headers.Authorization).toBe('Bearer [redacted by tokenwarden]');
    // The re-send of that config, as axios-retry does it:
    const again = await api.request({ ...(config as object), baseURL: sim.url });
    expect(again.status).toBe(200);
    expect(again.config.headers.Authorization).not.toMatch(/redacted/);
    expect(sim.stats.apiOk).toBe(1);
  });
});
