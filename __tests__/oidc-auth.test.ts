// Every client authentication method, resource indicators, server hints and discovery, against a
// certified authorization server (oidc-provider) and an API that introspects each token.
import { X509Certificate } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import axios from 'axios';
import { clientCredentials, ConfigError, TokenError, TokenManager } from '../src';
import { claimsOf, managerFor, optionsFor, type ClientName } from './helpers/oidc/clients';
import { TRICKY_SECRET, useOidc, type Oidc } from './helpers/oidc/oidc';
import { settle, track } from './helpers/setup';

let oidc: Oidc;
useOidc((started) => (oidc = started));

const METHODS: [ClientName, string][] = [
  ['basic', 'client_secret_basic, a secret that needs form-encoding'],
  ['post', 'client_secret_post'],
  ['jwt', 'client_secret_jwt (HS256)'],
  ['pkjwt-rs256', 'private_key_jwt, an RSA KeyObject (RS256)'],
  ['pkjwt-ps256', 'private_key_jwt, an RSA PEM with algorithm PS256'],
  ['pkjwt-es256', 'private_key_jwt, a P-256 JWK (ES256)'],
  ['pkjwt-eddsa', 'private_key_jwt, an Ed25519 KeyObject (EdDSA)'],
  ['tls', 'tls_client_auth, a certificate the CA signed, through the mTLS aliases'],
  ['selfsigned', 'self_signed_tls_client_auth, a registered self-signed certificate'],
];

describe.each(METHODS)('%s: %s', (client) => {
  test('the token call authenticates, the API accepts the token, and dispose revokes it the same way', async () => {
    const { tokens, api } = managerFor(optionsFor(oidc, client));
    const answer = await api.get('/whoami');
    expect(answer.data).toMatchObject({ client_id: client, scope: 'api:read' });
    await tokens.dispose({ revoke: true });
    const stats = await oidc.stats();
    expect(stats.token).toEqual([expect.objectContaining({ client, status: 200 })]);
    expect(stats.revocation).toEqual([{ client, status: 200, tls: client === 'tls' || client === 'selfsigned' }]);
    expect(stats.tokens).toBe(0);
  });
});

test('an assertion is signed anew for every token call: the server, which refuses a replayed jti, takes each', async () => {
  for (const client of ['jwt', 'pkjwt-es256'] as const) {
    const { tokens } = managerFor(optionsFor(oidc, client));
    const first = await tokens.refresh();
    const second = await tokens.refresh();
    expect(second.accessToken).not.toBe(first.accessToken);
  }
  expect((await oidc.stats()).token.map((call) => call.status)).toEqual([200, 200, 200, 200]);
});

describe('refused credentials are invalid_credentials, say nothing secret, and leave the manager working', () => {
  const wrong: [string, (o: Oidc) => Parameters<typeof optionsFor>[2], ClientName][] = [
    ['a wrong secret (Basic)', () => ({ clientSecret: 'wrong-secret' }), 'basic'],
    ['a wrong secret (client_secret_jwt)', () => ({ clientSecret: 'wrong-secret-wrong-secret-wrong-secret-wrong' }), 'jwt'],
    ['an unregistered key (private_key_jwt)', (o) => ({ privateKey: o.keys.stranger }), 'pkjwt-es256'],
    ['a certificate of the right CA with another subject (tls_client_auth)', (o) => ({ tls: { ...o.certs.other, ca: o.certs.ca } }), 'tls'],
    ['an unregistered self-signed certificate', (o) => ({ tls: { ...o.certs.other, ca: o.certs.ca } }), 'selfsigned'],
  ];
  test.each(wrong)('%s', async (_name, extra, client) => {
    const options = optionsFor(oidc, client, extra(oidc));
    const { tokens } = managerFor(options);
    const outcome = await settle(tokens.getToken());
    expect(outcome.ok).toBe(false);
    const error = (outcome as { error: TokenError }).error;
    expect(error).toBeInstanceOf(TokenError);
    expect(error.code).toBe('invalid_credentials');
    expect(error.oauthError).toBe('invalid_client');
    const shown = `${error.message} ${error.stack} ${inspect(error)} ${JSON.stringify(error)} ${inspect(tokens)}`;
    expect(shown).not.toContain('wrong-secret');
    expect(shown).not.toMatch(/PRIVATE KEY|"d":/);
    // The same manager, given nothing new, fails the same way again: no stuck single flight.
    expect(await settle(tokens.getToken())).toMatchObject({ ok: false, error: { code: 'invalid_credentials' } });
  });
});

test("basicEncoding 'raw' sends the secret undecoded: a compliant server (which form-decodes) refuses it, 'form' is taken", async () => {
  const raw = managerFor(optionsFor(oidc, 'basic', { basicEncoding: 'raw' }));
  const refused = await settle(raw.tokens.getToken());
  expect(refused).toMatchObject({ ok: false, error: { code: 'forbidden', oauthError: 'invalid_request' } });
  expect((refused as { error: TokenError }).error.message).toMatch(/not properly encoded/);
  const form = managerFor(optionsFor(oidc, 'basic'));
  await expect(form.tokens.getToken()).resolves.toEqual(expect.any(String));
  expect(TRICKY_SECRET).toMatch(/[+%: ]/);
});

describe('resource indicators (RFC 8707)', () => {
  test('an opaque token for the resource named: the API sees it as the audience', async () => {
    const { api } = managerFor(optionsFor(oidc, 'basic', { resource: 'https://api.test/opaque' }));
    const answer = await api.get('/whoami');
    expect(answer.data).toMatchObject({ client_id: 'basic', aud: 'https://api.test/opaque' });
  });

  test('a JWT access token for a JWT resource, its aud the resource', async () => {
    const { tokens } = managerFor(optionsFor(oidc, 'pkjwt-es256', { resource: 'https://api.test/jwt' }));
    const token = await tokens.getToken();
    expect(claimsOf(token)).toMatchObject({ aud: 'https://api.test/jwt', client_id: 'pkjwt-es256', scope: 'api:read' });
  });

  test('a resource the server does not know is refused with invalid_target, not retried', async () => {
    const { tokens } = managerFor(optionsFor(oidc, 'basic', { resource: 'https://api.test/unknown' }));
    expect(await settle(tokens.getToken())).toMatchObject({ ok: false, error: { code: 'forbidden', oauthError: 'invalid_target' } });
    expect((await oidc.stats()).token).toHaveLength(1);
  });
});

describe('server hints', () => {
  test("a JWT's exp is the expiry when expires_in is absent", async () => {
    await oidc.knobs({ omitExpiresIn: true, ttl: 120 });
    const { tokens, events } = managerFor(optionsFor(oidc, 'basic', { resource: 'https://api.test/jwt' }));
    const token = await tokens.getToken();
    expect(events.refresh[0]!.token.expiresAt).toBe((claimsOf(token).exp as number) * 1000);
  });

  test('with both, the earlier wins: oidc-provider rounds iat down, so exp is up to a second before now + expires_in', async () => {
    await oidc.knobs({ ttl: 120 });
    const { tokens, events } = managerFor(optionsFor(oidc, 'basic', { resource: 'https://api.test/jwt' }));
    const before = Date.now();
    const token = await tokens.getToken();
    const exp = (claimsOf(token).exp as number) * 1000;
    expect(exp).toBeLessThanOrEqual(before + 120_000);
    expect(events.refresh[0]!.token.expiresAt).toBe(exp);
  });

  test("Entra's refresh_in sets when the token is refreshed, never later than the refresh window would", async () => {
    await oidc.knobs({ refreshIn: 120, ttl: 600 });
    const { tokens, events } = managerFor(optionsFor(oidc, 'basic'));
    const before = Date.now();
    await tokens.getToken();
    const token = events.refresh[0]!.token;
    expect(token.refreshAt).toBeGreaterThanOrEqual(before + 120_000);
    expect(token.refreshAt).toBeLessThanOrEqual(Date.now() + 120_000);
    expect(token.expiresAt - token.refreshAt!).toBeGreaterThan(470_000);
  });
});

describe('errors the server answers with', () => {
  test('a scope the client may not have: invalid_scope, one call', async () => {
    const { tokens } = managerFor({ tokenUrl: `${oidc.issuer}/token`, clientId: 'narrow', clientSecret: 'narrow-secret', scope: 'api:write' });
    expect(await settle(tokens.getToken())).toMatchObject({ ok: false, error: { code: 'forbidden', oauthError: 'invalid_scope' } });
    expect((await oidc.stats()).token).toHaveLength(1);
  });

  // RFC 6749 §5.2 would say unauthorized_client; oidc-provider says invalid_request. Either way: refused, not retried.
  test('a client not allowed the grant: refused with what the server said, one call', async () => {
    const { tokens } = managerFor({ tokenUrl: `${oidc.issuer}/token`, clientId: 'code-only', clientSecret: 'code-secret' });
    const refused = await settle(tokens.getToken());
    expect(refused).toMatchObject({ ok: false, error: { code: 'forbidden', oauthError: 'invalid_request', status: 400 } });
    expect((refused as { error: TokenError }).error.message).toMatch(/grant type is not allowed/);
    expect((await oidc.stats()).token).toHaveLength(1);
  });
});

describe('discovery: clientCredentials.fromIssuer()', () => {
  test('reads the token and revocation endpoints from the metadata', async () => {
    const provider = await clientCredentials.fromIssuer(oidc.issuer, { clientId: 'post', clientSecret: 'post-secret', authMethod: 'client_secret_post' });
    const tokens = new TokenManager({ provider });
    track(() => tokens.dispose({ revoke: false }));
    await tokens.getToken();
    await tokens.dispose({ revoke: true });
    expect(await oidc.stats()).toMatchObject({ token: [{ client: 'post', status: 200, tls: false }], revocation: [{ client: 'post', status: 200 }] });
  });

  test('a client with a certificate uses the mtls_endpoint_aliases', async () => {
    const { tls } = optionsFor(oidc, 'tls');
    const provider = await clientCredentials.fromIssuer(oidc.issuer, { clientId: 'tls', authMethod: 'tls_client_auth', tls });
    const tokens = new TokenManager({ provider });
    track(() => tokens.dispose({ revoke: false }));
    await tokens.getToken();
    await tokens.dispose({ revoke: true });
    expect(await oidc.stats()).toMatchObject({ token: [{ client: 'tls', status: 200, tls: true }], revocation: [{ client: 'tls', status: 200, tls: true }] });
  });

  test.each([
    ['a plain-http token endpoint on another host', 'http://auth.elsewhere.example/token'],
    ['a token endpoint that is not http(s)', 'ftp://127.0.0.1/token'],
    ['a token endpoint with credentials in it', 'https://user:pw@127.0.0.1/token'],
  ])('metadata with %s is refused (credentials would go there): invalid_response naming the field', async (_name, tokenEndpoint) => {
    const server = createServer((req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: `http://${req.headers.host}`, token_endpoint: tokenEndpoint })),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    track(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const outcome = await settle(clientCredentials.fromIssuer(issuer, { clientId: 'a', clientSecret: 'b' }));
    expect(outcome).toMatchObject({ ok: false, error: { code: 'invalid_response' } });
    const message = (outcome as { error: Error }).error.message;
    expect(message).toMatch(/has a token_endpoint that is not an https URL without credentials/);
    expect(message).not.toContain(tokenEndpoint);
  });

  test('a method the server does not list is a ConfigError naming the ones it does', async () => {
    const metadata = (issuer: string) => ({
      issuer,
      token_endpoint: `${issuer}/token`,
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'private_key_jwt'],
    });
    const server = createServer((req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(metadata(`http://${req.headers.host}`))),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    track(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const outcome = await settle(clientCredentials.fromIssuer(issuer, { clientId: 'a', clientSecret: 'b', authMethod: 'client_secret_post' }));
    expect(outcome).toMatchObject({ ok: false, error: { option: 'authMethod' } });
    const error = (outcome as { error: ConfigError }).error;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/client_secret_post/);
    expect(error.message).toMatch(/client_secret_basic, private_key_jwt/);
  });
});

describe("private_key_jwt with the key's certificate (as Entra ID wants it)", () => {
  test('the server takes the assertion; its header names the certificate by x5t and x5t#S256', async () => {
    const { cert, key } = oidc.certs.client;
    const { tokens } = managerFor({ ...optionsFor(oidc, 'pkjwt-es256'), clientId: 'pkjwt-cert', privateKey: key, certificate: cert });
    await expect(tokens.getToken()).resolves.toEqual(expect.any(String));
    expect((await oidc.stats()).token).toEqual([expect.objectContaining({ client: 'pkjwt-cert', status: 200 })]);

    const seen: string[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        seen.push(new URLSearchParams(body).get('client_assertion') ?? '');
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'at', token_type: 'Bearer', expires_in: 60 }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    track(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const tokenUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
    const capture = new TokenManager({ provider: clientCredentials({ tokenUrl, clientId: 'entra-app', privateKey: key, certificate: cert, keyId: 'k1' }) });
    track(() => capture.dispose({ revoke: false }));
    await capture.getToken();
    const header = JSON.parse(Buffer.from(seen[0]!.split('.')[0]!, 'base64url').toString());
    const x509 = new X509Certificate(cert);
    const b64 = (hex: string) => Buffer.from(hex.replace(/:/g, ''), 'hex').toString('base64url');
    expect(header).toEqual({ alg: 'ES256', typ: 'JWT', kid: 'k1', x5t: b64(x509.fingerprint), 'x5t#S256': b64(x509.fingerprint256) });
    expect(claimsOf(seen[0]!)).toMatchObject({ iss: 'entra-app', sub: 'entra-app', aud: tokenUrl, jti: expect.any(String) });
    const { iat, exp } = claimsOf(seen[0]!) as { iat: number; exp: number };
    expect(exp - iat).toBe(60);
  });

  test('a certificate of another key is a ConfigError', () => {
    expect(() => clientCredentials({ ...base(oidc), privateKey: oidc.certs.client.key, certificate: oidc.certs.other.cert })).toThrow(
      /certificate is not the certificate of privateKey/,
    );
  });
});

const base = (o: Oidc) => ({ tokenUrl: `${o.issuer}/token`, clientId: 'pkjwt-cert' });

test('a token endpoint that echoes the request: neither the assertion nor the DPoP proof reaches a message', async () => {
  const bodies: { body: string; dpop: string | undefined }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      bodies.push({ body, dpop: req.headers.dpop as string | undefined });
      const description = `${new URLSearchParams(body).get('client_assertion')} ${String(req.headers.dpop)}`;
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'invalid_request', error_description: description }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  track(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const tokenUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  const { tokens } = managerFor({ tokenUrl, clientId: 'echo', privateKey: oidc.keys.ec, dpop: true });
  const outcome = await settle(tokens.getToken());
  expect(outcome).toMatchObject({ ok: false, error: { code: 'forbidden', oauthError: 'invalid_request' } });
  const error = (outcome as { error: TokenError }).error;
  const assertion = new URLSearchParams(bodies[0]!.body).get('client_assertion')!;
  const shown = `${error.message} ${error.providerMessage} ${inspect(error)} ${JSON.stringify(error)}`;
  expect(assertion.length).toBeGreaterThan(100);
  expect(shown).not.toContain(assertion);
  expect(shown).not.toContain(bodies[0]!.dpop!);
  expect(shown).not.toContain(assertion.split('.')[2]!);
});

test("a provider's own tokenType never goes into the header as it is: only Bearer or DPoP", async () => {
  const seen: (string | undefined)[] = [];
  const api = createServer((req, res) => {
    seen.push(req.headers.authorization);
    res.writeHead(200).end('{}');
  });
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  track(() => new Promise<void>((resolve) => api.close(() => resolve())));
  const baseUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  for (const tokenType of ['bearer', 'access_token', 'Bearer\r\nX-Injected: 1', 'dpop']) {
    const tokens = new TokenManager({
      provider: {
        name: 'custom',
        identity: `custom-${tokenType}`,
        baseUrl,
        fetchToken: async () => ({ accessToken: 'tok', tokenType, issuedAt: Date.now(), expiresAt: Date.now() + 60_000 }),
      },
    });
    track(() => tokens.dispose({ revoke: false }));
    const instance = axios.create();
    tokens.attach(instance);
    await instance.get('/');
  }
  expect(seen).toEqual(['Bearer tok', 'Bearer tok', 'Bearer tok', 'DPoP tok']);
});
