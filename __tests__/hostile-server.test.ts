// A token server that echoes the secret in any form, answers with a huge body
// or a gzip bomb, or sends absurd numbers, gets no secret into any message and cannot exhaust the
// process or break the manager.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { createGzip } from 'node:zlib';
import { TokenError, TokenManager, clientCredentials } from '../src';
import { MAX_LIFETIME_MS } from '../src/transport/token-response';
import { startSimulator } from '../src/testing';
import { DIALECTS, cleanup, providerFor, record, settle, track } from './helpers/setup';

afterEach(cleanup);

/** A CrowdStrike-shaped secret: exactly 40 characters (messages used to quote strings of up to 40). */
const SECRET = 'Xq7Lm2Pz9Rt4Vb8Nc3Hd6Jf1Kg5Ws0Ya2Ue7Io4';

/** Every way an error gets logged or handed on. */
function renderings(error: unknown): string[] {
  const out = [inspect(error, { depth: Infinity }), inspect(error, { depth: Infinity, showHidden: true }), JSON.stringify(error) ?? ''];
  if (error instanceof Error) out.push(error.message, error.stack ?? '', String(error), String(error.cause ?? ''));
  return out;
}

const secretIn = (values: unknown[], needles: string[]) => values.flatMap(renderings).filter((text) => needles.some((needle) => text.includes(needle)));

describe.each(DIALECTS)('%s: the secret echoed in a success body', (dialect) => {
  test.each([
    ['token_type', (secret: string) => ({ access_token: 'tok-x', token_type: secret, expires_in: 60 })],
    ['expires_in', (secret: string) => ({ access_token: 'tok-x', token_type: 'bearer', expires_in: secret })],
    ['access_token (inside an object)', (secret: string) => ({ access_token: { secret }, expires_in: 60 })],
  ])('in %s: invalid_response, and the secret is in no message, stack, inspect or event', async (_field, body) => {
    const sim = await startSimulator({ dialect, clientSecret: SECRET });
    track(() => sim.close());
    sim.failNext(1, { status: dialect === 'crowdstrike' ? 201 : 200, body: JSON.stringify(body(SECRET)) });
    const tokens = new TokenManager({ provider: providerFor(sim), retry: { retries: 0 } });
    track(() => tokens.dispose());
    const events = record(tokens);
    const outcome = await settle(tokens.getToken());
    const error = (outcome as { error: TokenError }).error;
    expect(error.code).toBe('invalid_response');
    expect(error.message).toMatch(/token_type|expires_in|access_token/);
    expect(secretIn([error, ...events.error], [SECRET])).toEqual([]);
    expect(events.error).toHaveLength(1);
  });
});

test('an echoed secret is redacted in every encoding: lower-case percent, double-encoded, base64 of it and of id:secret', async () => {
  const secret = 'p@ss w/rd+&=x%~Z';
  const sim = await startSimulator({ dialect: 'oauth2', clientSecret: secret });
  track(() => sim.close());
  const lower = encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase());
  const forms = [
    lower,
    encodeURIComponent(encodeURIComponent(secret)),
    Buffer.from(secret).toString('base64'),
    Buffer.from(secret).toString('base64url'),
    Buffer.from(`${sim.clientId}:${secret}`).toString('base64'),
    Buffer.from(`${encodeURIComponent(sim.clientId)}:${encodeURIComponent(secret)}`).toString('base64'),
  ];
  sim.failNext(1, { status: 400, body: JSON.stringify({ error: 'invalid_request', error_description: `saw ${forms.join(' | ')}` }) });
  const tokens = new TokenManager({ provider: providerFor(sim), retry: { retries: 0 } });
  track(() => tokens.dispose());
  const error = ((await settle(tokens.getToken())) as { error: TokenError }).error;
  expect(error.providerMessage).toBe(`invalid_request: saw ${forms.map(() => '[redacted]').join(' | ')}`);
  expect(secretIn([error], [secret, ...forms])).toEqual([]);
});

test('a secret echoed in another letter case, JSON-escaped or as hex is redacted too; a Content-Type is never quoted', async () => {
  const secret = 'Mx"Q9\\zKw4Tb7Yp2Lr';
  const sim = await startSimulator({ dialect: 'oauth2', clientSecret: secret });
  track(() => sim.close());
  const forms = [secret.toUpperCase(), secret.toLowerCase(), JSON.stringify(secret).slice(1, -1), Buffer.from(secret).toString('hex')];
  sim.failNext(1, { status: 400, body: JSON.stringify({ error: 'invalid_request', error_description: forms.join(' ') }) });
  // A 2xx that is not JSON, whose Content-Type is the secret (mixed case, as it is).
  sim.failNext(1, { status: 200, body: 'not json', contentType: `text/${SECRET}` });
  const tokens = new TokenManager({ provider: providerFor(sim), retry: { retries: 0 } });
  track(() => tokens.dispose());
  const first = ((await settle(tokens.getToken())) as { error: TokenError }).error;
  expect(first.providerMessage).toBe(`invalid_request: ${forms.map(() => '[redacted]').join(' ')}`);
  const second = ((await settle(tokens.getToken())) as { error: TokenError }).error;
  expect(second.message).toMatch(/not JSON \(an unexpected content type, 8 characters\)/);
  expect(secretIn([first, second], [SECRET, SECRET.toLowerCase(), ...forms])).toEqual([]);
});

/** A token endpoint on loopback that answers every call with `reply`. */
async function endpoint(reply: (res: import('node:http').ServerResponse) => void): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => reply(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  track(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
}

/** Gzip of `megabytes` MB of zeros, compressed a megabyte at a time (never whole in memory). */
async function gzipBomb(megabytes: number): Promise<Buffer> {
  const gzip = createGzip({ level: 9 });
  const chunks: Buffer[] = [];
  gzip.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise((resolve) => gzip.on('end', resolve));
  const zeros = Buffer.alloc(1024 * 1024, 0x20); // spaces: still valid JSON whitespace
  for (let i = 0; i < megabytes; i++) if (!gzip.write(zeros)) await new Promise((resolve) => gzip.once('drain', resolve));
  gzip.end();
  await done;
  return Buffer.concat(chunks);
}

describe('token responses are bounded (64 KiB after decompression)', () => {
  test('a gzip bomb (a few hundred KiB that inflate to 400 MB) is refused with invalid_response, and memory stays flat', async () => {
    const bomb = await gzipBomb(400);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const url = await endpoint((res) => res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }).end(bomb));
    const tokens = new TokenManager({ provider: clientCredentials({ tokenUrl: url, clientId: 'id', clientSecret: 'secret-for-bomb' }), retry: { retries: 0 } });
    track(() => tokens.dispose());
    const rssBefore = process.memoryUsage().rss;
    const error = ((await settle(tokens.getToken())) as { error: TokenError }).error;
    const grown = process.memoryUsage().rss - rssBefore;
    expect(error).toBeInstanceOf(TokenError);
    expect(error.code).toBe('invalid_response');
    expect(error.message).toMatch(/more than 64 KiB \(after decompression\)/);
    expect(grown).toBeLessThan(100 * 1024 * 1024); // 1.2 GB before the bound
  });

  test('a plain 5 MB body is refused the same way, and the next call works', async () => {
    let huge = true;
    const url = await endpoint((res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(huge ? `{"access_token":"${'a'.repeat(5 * 1024 * 1024)}"}` : '{"access_token":"small-token","token_type":"Bearer","expires_in":60}');
    });
    const tokens = new TokenManager({ provider: clientCredentials({ tokenUrl: url, clientId: 'id', clientSecret: 'secret-for-huge' }), retry: { retries: 0 } });
    track(() => tokens.dispose());
    const error = ((await settle(tokens.getToken())) as { error: TokenError }).error;
    expect(error.code).toBe('invalid_response');
    expect(error.message).toMatch(/more than 64 KiB/);
    huge = false;
    expect(await tokens.getToken()).toBe('small-token');
  });
});

test('an absurd expires_in (1e13 s) is clamped when it arrives: inspect and the token work', async () => {
  const sim = await startSimulator({ dialect: 'oauth2' });
  track(() => sim.close());
  sim.failNext(1, { status: 200, body: JSON.stringify({ access_token: 'long-lived', token_type: 'Bearer', expires_in: 1e13 }) });
  const tokens = new TokenManager({ provider: providerFor(sim) });
  track(() => tokens.dispose());
  const events = record(tokens);
  expect(await tokens.getToken()).toBe('long-lived');
  const token = events.refresh[0]!.token;
  expect(token.expiresAt - token.issuedAt).toBe(MAX_LIFETIME_MS);
  expect(() => inspect(tokens)).not.toThrow();
  expect(inspect(tokens)).toMatch(/token expires \d{4}-/);
  expect(inspect(token)).toContain('[redacted]');
});
