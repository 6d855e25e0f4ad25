// tokens.fetch against the simulator and real servers on loopback, with Node's own fetch: where the
// bearer goes, relative URLs, one refresh and one replay after a 401, bodies that cannot be sent
// twice, aborts, failures, dispose, DPoP, and ky and ofetch on top of it.
import type { IncomingMessage } from 'node:http';
import { ConfigError, TokenError, TokenManager, clientCredentials, type FetchLike } from '../src';
import type { Simulator } from '../src/testing';
import { managerOf } from './helpers/oidc/clients';
import { FAST_RETRY, cleanup, echoServer, providerFor, serve, settle, track } from './helpers/setup';
import { startSimulator } from '../src/testing';

afterEach(cleanup);

interface Seen {
  method: string;
  path: string;
  body: string;
  authorization: string | undefined;
  status: number;
}

/** A resource server on its own origin that accepts only the simulator's live tokens, and echoes what it got. */
async function resourceServer(sim: Simulator): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const url = await serve((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const authorization = req.headers.authorization;
      const token = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
      const status = token !== undefined && sim.isLive(token) ? 200 : 401;
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', path: req.url ?? '', body, authorization, status });
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ body }));
    });
  });
  return { url, seen };
}

/** A manager of `sim`'s credentials whose bearer may also go to `origins`. */
function managerFor(sim: Simulator, options: Partial<ConstructorParameters<typeof TokenManager>[0]> = {}): TokenManager {
  const tokens = new TokenManager({ provider: providerFor(sim), retry: FAST_RETRY, ...options });
  track(() => tokens.dispose({ revoke: false }));
  return tokens;
}

async function simulator(options: Parameters<typeof startSimulator>[0] = { dialect: 'oauth2' }): Promise<Simulator> {
  const sim = await startSimulator(options);
  track(() => sim.close());
  return sim;
}

describe('tokens.fetch: where the bearer goes', () => {
  test('a relative URL goes under baseUrl with the bearer; the API origin by absolute URL, URL or Request gets it too', async () => {
    const sim = await simulator({ dialect: 'crowdstrike' });
    const tokens = managerFor(sim);
    const relative = await tokens.fetch('/devices/queries/devices/v1');
    expect(relative.status).toBe(200);
    expect(((await relative.json()) as { meta: { path: string } }).meta.path).toBe('/devices/queries/devices/v1');
    for (const input of [`${sim.url}/a`, new URL(`${sim.url}/b`), new Request(`${sim.url}/c`)]) {
      expect((await tokens.fetch(input)).status).toBe(200);
    }
    expect(sim.stats.apiOk).toBe(4);
    expect(sim.stats.missingTokenSends).toBe(0);
    expect(sim.stats.tokenCalls).toBe(1);
  });

  test('other origins get no bearer and do not wait for a token; allowedOrigins do; a header of the caller’s own is kept', async () => {
    const stranger = await echoServer();
    const sim = await simulator();
    const tokens = managerFor(sim);
    await tokens.fetch(`${stranger.url}/elsewhere`, { headers: { 'X-Trace': '1' } });
    expect(stranger.seen).toEqual([{ path: '/elsewhere', authorization: undefined }]);
    expect(sim.stats.tokenCalls).toBe(0); // no token was needed, so none was fetched

    const allowed = managerFor(sim, { allowedOrigins: [stranger.url] });
    await allowed.fetch(`${stranger.url}/allowed`);
    await allowed.fetch(new Request(`${stranger.url}/own`, { headers: { authorization: 'Basic mine' } }));
    await allowed.fetch(`${stranger.url}/own-init`, { headers: [['Authorization', 'Basic init']] });
    expect(stranger.seen.slice(1)).toEqual([
      { path: '/allowed', authorization: `Bearer ${await allowed.getToken()}` },
      { path: '/own', authorization: 'Basic mine' },
      { path: '/own-init', authorization: 'Basic init' },
    ]);
  });

  test('a redirect to another origin does not take the bearer along', async () => {
    const stranger = await echoServer();
    const sim = await simulator();
    const from = await serve((_req, res) => res.writeHead(302, { Location: `${stranger.url}/landed` }).end());
    const tokens = managerFor(sim, { allowedOrigins: [from] });
    expect((await tokens.fetch(`${from}/start`)).status).toBe(200);
    expect(stranger.seen).toEqual([{ path: '/landed', authorization: undefined }]);
  });
});

/** A manager whose token a resource server of its own origin accepted, then revoked server side. */
async function revokedUnderResource() {
  const sim = await simulator();
  const resource = await resourceServer(sim);
  const tokens = managerFor(sim, { allowedOrigins: [resource.url] });
  const old = await tokens.getToken();
  sim.revokeAll();
  return { sim, resource, tokens, old };
}

describe('tokens.fetch: a 401 for our token', () => {
  test('concurrent requests refused after a revocation share one refresh and are each replayed once, bodies and all', async () => {
    const { sim, resource, tokens, old } = await revokedUnderResource();
    const bodies = ['text', new URLSearchParams({ a: '1' }), new Blob(['blob']), new TextEncoder().encode('bytes')];
    const responses = await Promise.all([
      ...bodies.map((body) => tokens.fetch(`${resource.url}/write`, { method: 'POST', body })),
      tokens.fetch(new Request(`${resource.url}/request`, { method: 'PUT', body: 'from a Request' })),
      tokens.fetch(`${resource.url}/read`),
    ]);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(sim.stats.tokenCalls).toBe(2); // the first token, and one refresh for all six
    const fresh = await tokens.getToken();
    expect(fresh).not.toBe(old);
    // Each request twice: refused with the old token, accepted with the new one, with the same body.
    const byPath = (path: string) => resource.seen.filter((s) => s.path === path).map((s) => [s.status, s.body, s.authorization]);
    expect(byPath('/request')).toEqual([
      [401, 'from a Request', `Bearer ${old}`],
      [200, 'from a Request', `Bearer ${fresh}`],
    ]);
    expect(
      byPath('/write')
        .map(([status, body]) => `${String(status)} ${String(body)}`)
        .sort(),
    ).toEqual(['200 a=1', '200 blob', '200 bytes', '200 text', '401 a=1', '401 blob', '401 bytes', '401 text'].sort());
    expect(resource.seen).toHaveLength(12);
  });

  test('a stream body is sent once: the 401 comes back, and the next request carries the new token', async () => {
    const { sim, resource, tokens, old } = await revokedUnderResource();
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('streamed'));
        controller.close();
      },
    });
    const response = await tokens.fetch(`${resource.url}/upload`, { method: 'POST', body: stream, duplex: 'half' });
    expect(response.status).toBe(401);
    expect(resource.seen).toEqual([expect.objectContaining({ path: '/upload', body: 'streamed', status: 401, authorization: `Bearer ${old}` })]);
    const next = await tokens.fetch(`${resource.url}/after`);
    expect(next.status).toBe(200);
    expect(resource.seen[1]!.authorization).not.toBe(`Bearer ${old}`);
    expect(sim.stats.tokenCalls).toBe(2);
  });

  test('a replay refused again goes back as it is: two sends, one refresh, no loop', async () => {
    const sim = await simulator();
    let sends = 0;
    const url = await serve((_req, res) => {
      sends++;
      res.writeHead(401).end('{"message":"no"}');
    });
    const tokens = managerFor(sim, { allowedOrigins: [url] });
    const response = await tokens.fetch(`${url}/x`);
    expect(response.status).toBe(401);
    expect(await response.text()).toBe('{"message":"no"}'); // the caller can still read the answer
    expect(sends).toBe(2);
    expect(sim.stats.tokenCalls).toBe(2);
  });
});

describe('tokens.fetch: waiting, failing, disposing', () => {
  test("the caller's signal ends only its own wait, with the signal's reason as fetch would; the refresh goes on", async () => {
    const sim = await simulator({ dialect: 'oauth2', latencyMs: 400 });
    const tokens = managerFor(sim);
    const aborted = await settle(tokens.fetch('/slow', { signal: AbortSignal.abort() }));
    expect((aborted as { error: Error }).error).toMatchObject({ name: 'AbortError' });
    const timedOut = await settle(tokens.fetch('/slow', { signal: AbortSignal.timeout(50) }));
    expect((timedOut as { error: Error }).error).toMatchObject({ name: 'TimeoutError' });
    expect(sim.stats.apiCalls).toBe(0);
    expect((await tokens.fetch('/after')).status).toBe(200);
    expect(sim.stats.tokenCalls).toBe(1); // the refresh the aborted caller started was the one used
  });

  test('no token to be had: TokenError with its code, nothing sent to the API; the next call tries again', async () => {
    const sim = await simulator();
    const tokens = new TokenManager({ provider: providerFor(sim, { clientSecret: 'not-the-secret-4471' }), retry: FAST_RETRY });
    track(() => tokens.dispose({ revoke: false }));
    const outcome = await settle(tokens.fetch('/x'));
    const error = (outcome as { error: TokenError }).error;
    expect(error).toBeInstanceOf(TokenError);
    expect(error.code).toBe('invalid_credentials');
    expect(error.message).not.toContain('not-the-secret-4471');
    expect(sim.stats.apiCalls).toBe(0);
    await settle(tokens.fetch('/x'));
    expect(sim.stats.tokenCalls).toBe(2);
  });

  test('after dispose: requests for the API reject with disposed; others still go', async () => {
    const stranger = await echoServer();
    const sim = await simulator();
    const tokens = managerFor(sim);
    expect((await tokens.fetch('/x')).status).toBe(200);
    await tokens.dispose({ revoke: false });
    const outcome = await settle(tokens.fetch('/x'));
    expect((outcome as { error: TokenError }).error).toMatchObject({ name: 'TokenError', code: 'disposed' });
    expect((await tokens.fetch(`${stranger.url}/still`)).status).toBe(200);
    expect(sim.stats.apiCalls).toBe(1);
  });

  test('the fetch option is the one sent with; a fetch that is not a function is a ConfigError', async () => {
    const sim = await simulator();
    const seen: string[] = [];
    const counting: FetchLike = (input, init) => {
      seen.push(input instanceof Request ? input.url : String(input));
      return fetch(input, init);
    };
    const tokens = managerFor(sim, { fetch: counting });
    expect((await tokens.fetch('/via')).status).toBe(200);
    expect(seen).toEqual([`${sim.url}/via`]);
    expect(() => new TokenManager({ provider: providerFor(sim), fetch: 'fetch' as unknown as FetchLike })).toThrow(ConfigError);
  });
});

describe('tokens.fetch: DPoP, ky and ofetch', () => {
  test('a DPoP-bound token goes with a fresh proof per request, and a new server nonce costs one resend', async () => {
    const sim = await simulator({ dialect: 'oauth2', dpop: { nonce: true } });
    const { tokens } = managerOf(sim, { clientSecret: sim.clientSecret, dpop: true });
    expect((await tokens.fetch('/v1/things')).status).toBe(200);
    const fresh = sim.rotateDpopNonce();
    expect((await tokens.fetch('/v1/things', { method: 'POST', body: '{}' })).status).toBe(200);
    expect(sim.stats.dpopProofs.filter((p) => p.endpoint === 'api').map((p) => [p.htm, p.verdict, p.nonce === fresh])).toEqual([
      ['GET', 'ok', false],
      ['POST', 'use_dpop_nonce', false],
      ['POST', 'ok', true],
    ]);
    expect(sim.stats.tokenCalls).toBe(2); // the token call and its nonce retry; no new token for an API nonce
  });

  test('with DPoP, redirects are followed hop by hop: a proof for each allowed hop, neither token nor proof elsewhere', async () => {
    const sim = await simulator({ dialect: 'oauth2', dpop: true });
    const landed: { authorization?: string; dpop?: string; method?: string }[] = [];
    const stranger = await serve((req, res) => {
      landed.push({ authorization: req.headers.authorization, dpop: req.headers['dpop'] as string | undefined, method: req.method });
      res.writeHead(200).end('{}');
    });
    const redirector = await serve((req, res) => {
      const to = req.url === '/to-api' ? `${sim.url}/v1/things` : `${stranger}/landed`;
      res.writeHead(req.url === '/see-other' ? 303 : req.url === '/to-api' ? 307 : 302, { Location: to }).end();
    });
    const tokens = new TokenManager({
      provider: clientCredentials({ tokenUrl: sim.tokenUrl, clientId: sim.clientId, clientSecret: sim.clientSecret, baseUrl: sim.url, dpop: true }),
      retry: FAST_RETRY,
      allowedOrigins: [redirector],
    });
    track(() => tokens.dispose({ revoke: false }));

    const toApi = await tokens.fetch(`${redirector}/to-api`, { method: 'PUT', body: 'kept' });
    expect(toApi.status).toBe(200);
    const proofs = sim.stats.dpopProofs.filter((proof) => proof.endpoint === 'api');
    expect(proofs.map((proof) => [proof.htm, proof.htu, proof.verdict])).toEqual([['PUT', `${sim.url}/v1/things`, 'ok']]); // its own proof, for its own URL

    expect((await tokens.fetch(`${redirector}/elsewhere`)).status).toBe(200);
    expect((await tokens.fetch(`${redirector}/see-other`, { method: 'POST', body: 'dropped' })).status).toBe(200);
    expect(landed).toEqual([
      { authorization: undefined, dpop: undefined, method: 'GET' },
      { authorization: undefined, dpop: undefined, method: 'GET' },
    ]);
  });

  test("as ky's fetch: prefixUrl, json, and a revoked token replayed", async () => {
    const { default: ky } = await import('ky');
    const sim = await simulator({ dialect: 'crowdstrike' });
    const tokens = managerFor(sim);
    const api = ky.create({ prefixUrl: tokens.baseUrl ?? sim.url, fetch: tokens.fetch, retry: 0 });
    expect(await api.get('devices/queries/devices/v1').json()).toMatchObject({ meta: { path: '/devices/queries/devices/v1' } });
    sim.revokeAll();
    expect(await api.post('devices/entities/devices/v2', { json: { ids: ['a'] } }).json()).toMatchObject({ meta: { path: '/devices/entities/devices/v2' } });
    expect(sim.stats.api401).toBe(1);
    expect(sim.stats.tokenCalls).toBe(2);
  });

  test("as ofetch's fetch (its global options, not its request defaults): baseURL, json body, and a revoked token replayed", async () => {
    const { ofetch } = await import('ofetch');
    const sim = await simulator({ dialect: 'onelogin' });
    const tokens = managerFor(sim);
    const api = ofetch.create({ baseURL: tokens.baseUrl ?? sim.url, retry: 0 }, { fetch: tokens.fetch });
    expect(await api('/api/2/users')).toMatchObject({ meta: { path: '/api/2/users' } });
    sim.revokeAll();
    expect(await api('/api/2/users', { method: 'POST', body: { name: 'x' } })).toMatchObject({ meta: { path: '/api/2/users' } });
    expect(sim.stats.api401).toBe(1);
    expect(sim.stats.tokenCalls).toBe(2);
  });
});
