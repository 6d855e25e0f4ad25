// Sender-constrained tokens against a certified server: DPoP (RFC 9449) at the token endpoint and
// at the API, with server nonces, and certificate-bound tokens (RFC 8705) sent over mTLS.
import axios from 'axios';
import { createServer } from 'node:http';
import { Agent } from 'node:https';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { calculateJwkThumbprint } from 'jose';
import { TokenError } from '../src';
import { claimsOf, managerFor, optionsFor } from './helpers/oidc/clients';
import { useOidc, type Oidc } from './helpers/oidc/oidc';
import { settle, thrownBy, track } from './helpers/setup';

let oidc: Oidc;
useOidc((started) => (oidc = started));

describe('DPoP', () => {
  test('the token call carries a proof; the API gets Authorization: DPoP and a proof of its own, and takes them', async () => {
    const { api, events } = managerFor(optionsFor(oidc, 'dpop'));
    const answer = await api.get('/whoami?page=2#top');
    expect(answer.data).toMatchObject({ client_id: 'dpop', token_type: 'DPoP' });
    expect(events.refresh[0]!.token.tokenType).toBe('DPoP');
    const stats = await oidc.stats();
    expect(stats.token).toEqual([expect.objectContaining({ client: 'dpop', status: 200, dpop: true })]);
    expect(stats.api).toEqual([expect.objectContaining({ status: 200, scheme: 'DPoP', error: null })]);
  });

  test('every request has a proof of its own (the API refuses a replayed jti)', async () => {
    const { api } = managerFor(optionsFor(oidc, 'dpop'));
    const answers = await Promise.all(Array.from({ length: 10 }, () => api.get('/whoami')));
    expect(answers.map((answer) => answer.status)).toEqual(Array(10).fill(200));
    expect((await oidc.stats()).token).toHaveLength(1);
  });

  test('a key of your own: the token is bound to its thumbprint (cnf.jkt), and the key never shows', async () => {
    const key = oidc.keys.ec;
    const { tokens, api } = managerFor(optionsFor(oidc, 'dpop', { dpop: { privateKey: key }, resource: 'https://api.test/jwt' }));
    const token = await tokens.getToken();
    const jwk = key.export({ format: 'jwk' });
    const thumbprint = await calculateJwkThumbprint({ kty: jwk.kty!, crv: jwk.crv!, x: jwk.x!, y: jwk.y! });
    expect(claimsOf(token)).toMatchObject({ cnf: { jkt: thumbprint } });
    await expect(api.get('/whoami')).resolves.toMatchObject({ status: 200 });
    expect(`${inspect(tokens)} ${JSON.stringify(tokens)} ${inspect(tokens, { showHidden: true, depth: 9 })}`).not.toContain(jwk.d!);
  });

  test('the bound token alone is worth nothing: sent as a Bearer, or as DPoP without a proof, the API refuses it', async () => {
    const { tokens } = managerFor(optionsFor(oidc, 'dpop'));
    const token = await tokens.getToken();
    const bare = axios.create({ baseURL: oidc.api, validateStatus: () => true });
    expect((await bare.get('/whoami', { headers: { Authorization: `Bearer ${token}` } })).status).toBe(401);
    const refused = await bare.get('/whoami', { headers: { Authorization: `DPoP ${token}` } });
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toMatch(/^DPoP error="invalid_dpop_proof"/);
  });

  test('the token endpoint asks for a nonce (use_dpop_nonce): one more call with it, and the next refresh has it already', async () => {
    await oidc.knobs({ tokenNonce: true });
    const { tokens } = managerFor(optionsFor(oidc, 'dpop'));
    await tokens.getToken();
    await tokens.refresh();
    const calls = (await oidc.stats()).token;
    expect(calls.map((call) => [call.status, call.error])).toEqual([
      [400, 'use_dpop_nonce'],
      [200, null],
      [200, null],
    ]);
  });

  test('the API asks for a nonce: the request is sent once more with it; later requests carry it; a new nonce costs one more 401', async () => {
    await oidc.knobs({ apiNonce: true });
    const { api } = managerFor(optionsFor(oidc, 'dpop'));
    await expect(api.get('/whoami')).resolves.toMatchObject({ status: 200 });
    await expect(api.get('/whoami')).resolves.toMatchObject({ status: 200 });
    await oidc.knobs({ rotateApiNonce: true });
    await expect(api.get('/whoami')).resolves.toMatchObject({ status: 200 });
    const seen = (await oidc.stats()).api.map((call) => [call.status, call.error]);
    expect(seen).toEqual([
      [401, 'use_dpop_nonce'],
      [200, null],
      [200, null],
      [401, 'use_dpop_nonce'],
      [200, null],
    ]);
    expect((await oidc.stats()).token).toHaveLength(1);
  });

  test('a server that ignores DPoP (answers Bearer) is an invalid_response that says so, and no token is used', async () => {
    await oidc.knobs({ ignoreDpop: true });
    const { tokens, api } = managerFor(optionsFor(oidc, 'dpop'));
    const outcome = await settle(api.get('/whoami'));
    expect(outcome).toMatchObject({ ok: false, error: { code: 'invalid_response' } });
    const error = (outcome as { error: TokenError }).error;
    expect(error).toBeInstanceOf(TokenError);
    expect(error.message).toMatch(/DPoP/);
    expect(error.message).toMatch(/ignored the DPoP proof/);
    expect((await oidc.stats()).api).toHaveLength(0);
    expect(tokens.state).not.toBe('usable');
  });

  test('a server-side revocation: the 401 is replayed once with a new token and a new proof', async () => {
    const { api, events } = managerFor(optionsFor(oidc, 'dpop'));
    await api.get('/whoami');
    await oidc.revokeAll();
    await expect(api.get('/whoami')).resolves.toMatchObject({ status: 200 });
    expect(events.refresh.map((refresh) => refresh.reason)).toEqual(['initial', 'unauthorized']);
    expect((await oidc.stats()).api.map((call) => call.status)).toEqual([200, 401, 200]);
  });
});

describe('certificate-bound tokens (RFC 8705)', () => {
  test.each(['tls', 'selfsigned'] as const)('%s: the token carries the certificate thumbprint; the API takes it only with that certificate', async (client) => {
    const { tokens, api } = managerFor(optionsFor(oidc, client, { resource: 'https://api.test/jwt' }));
    await expect(api.get('/whoami')).resolves.toMatchObject({ status: 200, data: { client_id: client } });
    const token = await tokens.getToken();
    expect(claimsOf(token)).toMatchObject({ cnf: { 'x5t#S256': expect.any(String) } });
    // The same token from a connection without the client certificate: refused.
    const without = axios.create({ baseURL: oidc.apiTls, httpsAgent: new Agent({ ca: oidc.certs.ca }), validateStatus: () => true });
    const refused = await without.get('/whoami', { headers: { Authorization: `Bearer ${token}` } });
    expect(refused.status).toBe(401);
    // ...and from one with another certificate.
    const other = axios.create({ baseURL: oidc.apiTls, httpsAgent: new Agent({ ...oidc.certs.other, ca: oidc.certs.ca }), validateStatus: () => true });
    expect((await other.get('/whoami', { headers: { Authorization: `Bearer ${token}` } })).status).toBe(401);
  });

  test('a certificate without its key is a ConfigError that names the fix and shows no key material', () => {
    const { cert } = oidc.certs.client;
    const make = () => managerFor(optionsFor(oidc, 'tls', { tls: { cert } }));
    expect(make).toThrow(expect.objectContaining({ code: 'invalid_config', option: 'tls', message: expect.stringMatching(/both cert and key/) }));
    const mismatched = () => managerFor(optionsFor(oidc, 'tls', { tls: { cert, key: oidc.certs.other.key } }));
    expect(mismatched).toThrow(/not the private key of tls.cert/);
    const messages = [make, mismatched].map(thrownBy).map((error) => `${(error as Error).message} ${inspect(error)}`);
    expect(messages.join(' ')).not.toMatch(/BEGIN|PRIVATE KEY|CERTIFICATE-----/);
  });
});

describe('behaviour against a generic server', () => {
  test('single flight: 25 callers at once, one token call', async () => {
    const { tokens } = managerFor(optionsFor(oidc, 'pkjwt-es256'));
    const all = await Promise.all(Array.from({ length: 25 }, () => tokens.getToken()));
    expect(new Set(all).size).toBe(1);
    expect((await oidc.stats()).token).toHaveLength(1);
  });

  // The server runs in real time, in its own process: this one waits a few real seconds.
  test('background refresh ahead of expiry: requests keep flowing on the old token while the new one is fetched', async () => {
    await oidc.knobs({ ttl: 3 });
    const { api, events } = managerFor(optionsFor(oidc, 'basic'), { refreshWindowMs: 1500 });
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      statuses.push((await api.get('/whoami')).status);
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    expect(statuses).toEqual(Array(20).fill(200));
    // How many refreshes fit depends on how fast the machine runs the loop; that each came ahead of
    // expiry, in the background, does not.
    const [first, ...later] = events.refresh.map((refresh) => refresh.reason);
    expect(first).toBe('initial');
    expect(later.length).toBeGreaterThanOrEqual(1);
    expect(later).toEqual(Array(later.length).fill('scheduled'));
    expect((await oidc.stats()).api.every((call) => call.status === 200)).toBe(true);
  });

  test('after a server-side revocation, one 401, one token call, the request replayed', async () => {
    const { api, events } = managerFor(optionsFor(oidc, 'post'));
    await api.get('/whoami');
    await oidc.revokeAll();
    await expect(api.get('/whoami')).resolves.toMatchObject({ status: 200 });
    expect(events.refresh.map((refresh) => refresh.reason)).toEqual(['initial', 'unauthorized']);
    const stats = await oidc.stats();
    expect(stats.api.map((call) => call.status)).toEqual([200, 401, 200]);
    expect(stats.token).toHaveLength(2);
  });
});

describe('what a hostile or broken world gets', () => {
  test('an API that always wants a newer nonce: one retry, then its 401 goes back to the caller, and the token is kept', async () => {
    await oidc.knobs({ apiNonce: true, apiNonceEvery: true });
    const { api, events } = managerFor(optionsFor(oidc, 'dpop'));
    const outcome = await settle(api.get('/whoami'));
    expect(outcome).toMatchObject({ ok: false, error: { response: { status: 401 } } });
    const stats = await oidc.stats();
    expect(stats.api.map((call) => call.error)).toEqual(['use_dpop_nonce', 'use_dpop_nonce']);
    expect(stats.token).toHaveLength(1);
    expect(events.refresh.map((refresh) => refresh.reason)).toEqual(['initial']);
  });

  test('an error from the API shows neither the TLS key nor the proof nor the token, in JSON or inspect', async () => {
    for (const client of ['tls', 'dpop'] as const) {
      const { tokens, api } = managerFor(optionsFor(oidc, client));
      const outcome = await settle(api.get('/fail'));
      expect(outcome).toMatchObject({ ok: false, error: { response: { status: 500 } } });
      const error = (outcome as { error: Error & { config: unknown } }).error;
      const shown = `${JSON.stringify(error)} ${inspect(error, { depth: 8 })} ${inspect(error.config, { depth: 8, showHidden: true })}`;
      const token = await tokens.getToken();
      expect(shown).not.toContain(token);
      expect(shown).not.toContain(oidc.certs.client.key.split('\n')[1]!);
      expect(shown).not.toMatch(/PRIVATE KEY|eyJ0eXAiOiJkcG9wK2p3dC/);
    }
  });

  test('a redirect to another origin carries neither Authorization nor the DPoP proof', async () => {
    const seen: Record<string, unknown>[] = [];
    const other = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    track(() => new Promise<void>((resolve) => other.close(() => resolve())));
    await oidc.knobs({ redirectTo: `http://127.0.0.1:${(other.address() as AddressInfo).port}/elsewhere` });
    const { api } = managerFor(optionsFor(oidc, 'dpop'));
    await expect(api.get('/redirect')).resolves.toMatchObject({ status: 200 });
    expect(seen).toHaveLength(1);
    expect(seen[0]).not.toHaveProperty('authorization');
    expect(seen[0]).not.toHaveProperty('dpop');
  });

  test('an instance with an httpsAgent of its own that presents no certificate: the bound request is refused, saying why', async () => {
    const { tokens } = managerFor(optionsFor(oidc, 'tls'));
    const instance = axios.create({ baseURL: oidc.apiTls, httpsAgent: new Agent({ ca: oidc.certs.ca }) });
    tokens.attach(instance);
    const outcome = await settle(instance.get('/whoami'));
    expect(outcome).toMatchObject({ ok: false, error: { code: 'invalid_config', option: 'httpsAgent' } });
    expect((outcome as { error: Error }).error.message).toMatch(/presents no client certificate: remove the httpsAgent/);
    // One that presents the certificate is the caller's to keep.
    const own = axios.create({ baseURL: oidc.apiTls, httpsAgent: new Agent({ ...oidc.certs.client, ca: oidc.certs.ca }) });
    tokens.attach(own);
    await expect(own.get('/whoami')).resolves.toMatchObject({ status: 200, data: { client_id: 'tls' } });
  });

  test('a baseURL with a path and an empty url: the proof names the URL axios sends to', async () => {
    const { tokens } = managerFor(optionsFor(oidc, 'dpop'));
    const instance = axios.create({ baseURL: `${oidc.api}/v1/items` });
    tokens.attach(instance);
    await expect(instance.get('')).resolves.toMatchObject({ status: 200 });
    expect((await oidc.stats()).api).toEqual([expect.objectContaining({ path: '/v1/items', status: 200 })]);
  });
});
