// Behaviour 8: the client secret and access tokens never show in errors, events or the manager.
import { inspect } from 'node:util';
import { TokenManager, crowdstrike, onelogin, clientCredentials, type TokenError } from '../src';
import { DIALECTS, cleanup, providerFor, record, rig, settle, sleep, track, type Recorded } from './helpers/setup';
import { startSimulator } from '../src/testing';

afterEach(cleanup);

/** Every way an object gets logged. */
function renderings(value: unknown): string[] {
  const out = [inspect(value, { depth: 10 }), inspect(value, { depth: Infinity }), inspect(value, { depth: Infinity, showHidden: true }), JSON.stringify(value) ?? ''];
  if (value instanceof Error) out.push(value.message, value.stack ?? '', String(value));
  return out;
}

function leaks(values: readonly unknown[], needles: readonly string[]): string[] {
  const found: string[] = [];
  for (const value of values) {
    for (const text of renderings(value)) {
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
      payloads.push(events.error, () => events.dispose);
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
    await failing(() => sim.failNext(1, { status: 400, body: JSON.stringify({ errors: [{ message: echo }], status: { message: echo }, error: 'invalid_request', error_description: echo }) }));

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
    expect(codes).toEqual(['invalid_credentials', 'rate_limited', 'server_error', 'network_error', 'invalid_response', 'invalid_response', 'invalid_response', 'forbidden', 'disposed']);
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
