// Issue 3, item 4: fuzzed token responses, 10,000 per dialect, through the real simulator. Each
// case is a fresh manager whose first token call gets the fuzzed answer; the request it serves goes
// to a server on an allowed origin that records the Authorization header it received.
import fc from 'fast-check';
import { TokenError, TokenManager } from '../src';
import { startSimulator, type Simulator } from '../src/testing';
import { DIALECTS, axios, cleanup, echoServer, providerFor, settle, track } from './helpers/setup';

afterAll(cleanup);

const RUNS = 10_000;

/** The documented rules, restated: the token a well-formed body carries, or undefined. */
function expectedToken(body: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body, 'utf8').toString('utf8')); // as it crosses the wire
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const { access_token: token, token_type: type, expires_in: expiresIn } = parsed as Record<string, unknown>;
  if (typeof token !== 'string' || token.length === 0 || token.length > 8192 || !/^[\x21-\x7e]+$/.test(token)) return undefined;
  if (type !== undefined && (typeof type !== 'string' || type.toLowerCase() !== 'bearer')) return undefined;
  if (expiresIn !== undefined && expiresIn !== null) {
    const seconds = typeof expiresIn === 'number' ? expiresIn : typeof expiresIn === 'string' && /^\d+(\.\d+)?$/.test(expiresIn) ? Number(expiresIn) : NaN;
    if (!(seconds >= 1) || !Number.isFinite(seconds * 1000)) return undefined;
  }
  return token;
}

const optional = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined, freq: 4 });
const tokenValue = fc.oneof(
  { weight: 8, arbitrary: fc.stringMatching(/^[\x21-\x7e]{1,64}$/) },
  { weight: 1, arbitrary: fc.constantFrom('', 'abc def', 'abc\r\nX-Injected: 1', 'tök', 'a'.repeat(8192), 'a'.repeat(8193)) },
  { weight: 1, arbitrary: fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 })) },
);
const tokenType = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('bearer', 'Bearer', 'BEARER', 'bEaReR') },
  { weight: 1, arbitrary: fc.oneof(fc.constantFrom('mac', 'DPoP', 'pop', '', 'bearer '), fc.integer(), fc.constant(null), fc.string()) },
);
const expiresIn = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 10_000_000 }) },
  {
    weight: 3,
    arbitrary: fc.oneof(
      fc.integer({ min: -10_000_000, max: 0 }),
      fc.double(), // NaN and ±Infinity become null in JSON
      fc.constantFrom(1e308, -1e308, 1e21, Number.MAX_SAFE_INTEGER, 0.5, 0.999, 1, 1.5, -0),
      fc.stringMatching(/^\d{1,9}(\.\d{1,3})?$/),
      fc.constantFrom('3600', '-5', '1e3', 'abc', ' 60', '60s', '', '0', '0.5', 'NaN', 'Infinity'),
      fc.constant(null),
      fc.boolean(),
      fc.array(fc.nat(), { maxLength: 2 }),
    ),
  },
);
const tokenObject = fc
  .record(
    {
      access_token: optional(tokenValue),
      token_type: optional(tokenType),
      expires_in: optional(expiresIn),
      scope: optional(fc.string()),
      extra: optional(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 })),
    },
    { requiredKeys: [] },
  )
  .map(({ extra, ...fields }) => JSON.stringify({ ...extra, ...fields }));
const body = fc.oneof(
  { weight: 12, arbitrary: tokenObject },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value) ?? '') },
  { weight: 2, arbitrary: fc.tuple(tokenObject, fc.nat()).map(([json, cut]) => json.slice(0, cut % (json.length + 1))) }, // truncated
  { weight: 1, arbitrary: fc.string().map((text) => `<!DOCTYPE html><html><body>${text}</body></html>`) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary' }) },
);
const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/html', 'text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream');

/** Reject if a case takes this long: the manager must never hang on a bad answer. */
function withinFiveSeconds<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('hung for 5 s')), 5_000)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe.each(DIALECTS)('%s: fuzzed token responses', (dialect) => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ dialect });
    track(() => sim.close());
  });

  test(`${RUNS} answers: a well-formed token is used as it is; anything else is invalid_response and nothing is sent`, async () => {
    const received = await echoServer();
    const api = axios.create({ baseURL: received.url, maxRedirects: 0 });
    const http = axios.create(); // one token-call instance for all the short-lived managers
    const status = dialect === 'crowdstrike' ? 201 : 200;
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(body, contentType, async (text, type) => {
        sim.failNext(1, { status, body: text, contentType: type });
        const tokens = new TokenManager({ provider: providerFor(sim), http });
        tokens.attach(api);
        const before = received.seen.length;
        const outcome = await withinFiveSeconds(settle(api.get('/probe')));
        await tokens.dispose({ revoke: false });
        const expected = expectedToken(text);
        if (expected === undefined) {
          const error = (outcome as { error?: unknown }).error;
          return outcome.ok === false && error instanceof TokenError && error.code === 'invalid_response' && received.seen.length === before;
        }
        accepted++;
        return outcome.ok && received.seen.length === before + 1 && received.seen[before]!.authorization === `Bearer ${expected}`;
      }),
      { numRuns: RUNS, seed: 20261122 + DIALECTS.indexOf(dialect) },
    );
    // Both sides of the rule were exercised in earnest.
    expect(accepted).toBeGreaterThan(RUNS / 10);
    expect(accepted).toBeLessThan(RUNS * 0.9);
    expect(sim.stats.tokenCalls).toBe(RUNS);
  }, 120_000);
});
