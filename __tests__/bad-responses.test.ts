// A token response that is not a usable bearer token is `invalid_response`, says what
// was wrong, and never turns into `Bearer undefined`.
import { TokenError } from '../src';
import { DIALECTS, cleanup, rig, settle } from './helpers/setup';

afterEach(cleanup);

const json = (body: unknown) => ({ body: JSON.stringify(body) });

/** An unsigned JWT with these claims: enough for a client that reads exp and never verifies. */
const jwt = (claims: object) => ['{"alg":"none"}', JSON.stringify(claims)].map((part) => Buffer.from(part).toString('base64url')).join('.') + '.sig';

const CASES: [string, { body: string; contentType?: string; status?: number }, RegExp][] = [
  ['an HTML page', { body: '<html><body>Service Unavailable</body></html>', contentType: 'text/html' }, /not JSON \(text\/html/],
  ['a truncated body', { body: '{"access_token": "abc", "expires_' }, /not JSON/],
  ['an empty body', { body: '' }, /not JSON/],
  ['a JSON array', json([{ access_token: 'a' }]), /an array, not an object/],
  ['JSON null', json(null), /a JSON null/],
  ['no access_token', json({ token_type: 'bearer', expires_in: 60 }), /access_token is missing/],
  ['an empty access_token', json({ access_token: '', expires_in: 60 }), /access_token is an empty string/],
  ['a numeric access_token', json({ access_token: 12345, expires_in: 60 }), /access_token is 12345, not a string/],
  ['a token with a newline', json({ access_token: 'abc\r\nX-Evil: 1', expires_in: 60 }), /cannot be sent in a header/],
  ['a negative expires_in', json({ access_token: 'abc', expires_in: -5 }), /expires_in is -5; it must be a positive number/],
  ['a zero expires_in', json({ access_token: 'abc', expires_in: 0 }), /expires_in is 0; it must be a positive/],
  ['a non-numeric expires_in', json({ access_token: 'abc', expires_in: 'soon' }), /expires_in is a 4-character string, not a number/],
  ['an absurd expires_in', json({ access_token: 'abc', expires_in: 1e308 }), /expires_in is 1e\+308; it must be/],
  ['a sub-second expires_in', json({ access_token: 'abc', expires_in: 0.2 }), /too short to use/],
  ['an unknown token_type', json({ access_token: 'abc', token_type: 'mac', expires_in: 60 }), /token_type is "mac"; only Bearer/],
  ['a redirect', { body: '', status: 302 }, /answered HTTP 302/],
  ['no expires_in and a JWT already expired', json({ access_token: jwt({ exp: Math.floor(Date.now() / 1000) - 60 }) }), /exp is past: check this host's clock/],
];

describe.each(DIALECTS)('%s: bad token responses', (dialect) => {
  test.each(CASES)('%s is invalid_response with a message that says so', async (_name, raw, says) => {
    const { sim, api } = await rig(dialect);
    sim.failNext(1, {
      status: raw.status ?? (dialect === 'crowdstrike' ? 201 : 200),
      body: raw.body,
      ...(raw.contentType && { contentType: raw.contentType }),
    });
    const outcome = await settle(api.get('/devices/queries/devices/v1'));
    const error = (outcome as { error: TokenError }).error;
    expect(error).toBeInstanceOf(TokenError);
    expect(error.code).toBe('invalid_response');
    expect(error.message).toMatch(says);
    expect(error.retryable).toBe(false);
    expect(sim.stats.apiCalls).toBe(0); // no request went out with a bad bearer
    expect(sim.stats.tokenCalls).toBe(1);
    // Nothing is lost: the next call tries again and gets a good token.
    expect((await api.get('/devices/queries/devices/v1')).status).toBe(200);
  });
});

test('a response without expires_in gets the configured default lifetime', async () => {
  const { sim, tokens, events } = await rig('oauth2', {}, { defaultLifetimeMs: 90_000 });
  sim.failNext(1, { status: 200, body: JSON.stringify({ access_token: 'no-expiry-token', token_type: 'Bearer' }) });
  expect(await tokens.getToken()).toBe('no-expiry-token');
  const token = events.refresh[0]!.token;
  expect(token.expiresAt - token.issuedAt).toBe(90_000);
});

test('a numeric string expires_in, a missing token_type and extra fields are accepted', async () => {
  const { sim, tokens, events } = await rig('crowdstrike');
  sim.failNext(1, { status: 201, body: JSON.stringify({ access_token: 'ok-token', expires_in: '1799', id_token: 'x', scope: 'devices:read' }) });
  expect(await tokens.getToken()).toBe('ok-token');
  const token = events.refresh[0]!.token;
  expect(token.expiresAt - token.issuedAt).toBe(1_799_000);
  expect(token.tokenType).toBe('Bearer');
  expect(token.scope).toBe('devices:read');
});

describe('hints a server gives about the life of its token', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const cases: [string, () => object, (lifetime: number) => boolean][] = [
    ["a JWT's exp, without expires_in", () => ({ access_token: jwt({ exp: now() + 120 }) }), (ms) => ms > 118_000 && ms <= 120_000],
    ['the earlier of exp and expires_in', () => ({ access_token: jwt({ exp: now() + 120 }), expires_in: 3600 }), (ms) => ms > 118_000 && ms <= 120_000],
    [
      'expires_in when exp is past (clock skew: the relative figure wins)',
      () => ({ access_token: jwt({ exp: now() - 600 }), expires_in: 300 }),
      (ms) => ms === 300_000,
    ],
    ['an absurd exp is cut to the 30-day cap', () => ({ access_token: jwt({ exp: 1e15 }) }), (ms) => ms === 30 * 86_400_000],
    ['an exp that is a string is no exp (the default lifetime)', () => ({ access_token: jwt({ exp: String(now() + 120) }) }), (ms) => ms === 90_000],
    ['three dot-separated parts that are not a JWT', () => ({ access_token: 'a.b.c' }), (ms) => ms === 90_000],
  ];
  test.each(cases)('%s', async (_name, body, fits) => {
    const { sim, tokens, events } = await rig('oauth2', {}, { defaultLifetimeMs: 90_000 });
    sim.failNext(1, { status: 200, body: JSON.stringify({ token_type: 'Bearer', ...body() }) });
    await tokens.getToken();
    const token = events.refresh[0]!.token;
    expect(fits(token.expiresAt - token.issuedAt)).toBe(true);
  });

  test.each([
    ['refresh_in: 900 of 3600', 900, 900_000],
    ['refresh_in past the expiry is ignored', 7200, undefined],
    ['a tiny refresh_in is raised to a tenth of the life (no refresh loop)', 0.2, 360_000],
    ['a negative refresh_in is ignored', -5, undefined],
    ['a refresh_in that is not a number is ignored', 'soon', undefined],
  ])('%s', async (_name, refreshIn, after) => {
    const { sim, tokens, events } = await rig('oauth2');
    sim.failNext(1, { status: 200, body: JSON.stringify({ access_token: 'hinted', token_type: 'Bearer', expires_in: 3600, refresh_in: refreshIn }) });
    await tokens.getToken();
    const token = events.refresh[0]!.token;
    expect(token.refreshAt === undefined ? undefined : token.refreshAt - token.issuedAt).toBe(after);
  });
});
