// A certified authorization server (panva's oidc-provider) and an API beside it, in a child process
// of their own (oidc-provider is ESM only). The API checks each access token by RFC 7662
// introspection, checks DPoP proofs (RFC 9449) and certificate binding (RFC 8705), and answers 401
// as RFC 6750 / RFC 9449 say. Started by oidc.ts; prints one JSON line with its URLs.
//
// Servers: the issuer over HTTP, its mTLS endpoint aliases over HTTPS (a client certificate is
// asked for, not required: self-signed ones must reach the provider), the API over HTTP and over
// HTTPS (for certificate-bound tokens), and an admin port for the tests (stats, revocation, knobs).
import { createServer as createHttp } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as jose from 'jose';
import Provider, { errors } from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));

// Every knob a test may turn at run time (oidc.ts sends where they start: its DEFAULT_KNOBS).
const knobs = { ...config.knobs };
const stats = { token: [], revocation: [], introspection: 0, api: [] };

/** The default adapter, but one whose tokens the admin port can see and destroy. */
const stored = new Map();
class Adapter {
  constructor(model) {
    this.model = model;
  }
  key(id) {
    return `${this.model}:${id}`;
  }
  async upsert(id, payload, expiresIn) {
    stored.set(this.key(id), { payload, until: expiresIn ? Date.now() + expiresIn * 1000 : Infinity });
  }
  async find(id) {
    const entry = stored.get(this.key(id));
    return entry && entry.until > Date.now() ? entry.payload : undefined;
  }
  async consume(id) {
    const entry = stored.get(this.key(id));
    if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
  }
  async destroy(id) {
    stored.delete(this.key(id));
  }
  async findByUid() {}
  async findByUserCode() {}
  async revokeByGrantId() {}
}

const signingKeys = await Promise.all(
  ['ES256', 'RS256'].map(async (alg) => {
    const jwk = await jose.exportJWK((await jose.generateKeyPair(alg, { extractable: true })).privateKey);
    return { ...jwk, alg, use: 'sig', kid: await jose.calculateJwkThumbprint(jwk) };
  }),
);

const http = createHttp();
const tls = { key: config.tls.serverKey, cert: config.tls.serverCert, ca: config.tls.ca, requestCert: true, rejectUnauthorized: false };
const mtls = createHttps(tls);
const [issuerPort, mtlsPort] = [await listen(http), await listen(mtls)];
const issuer = `http://127.0.0.1:${issuerPort}`;
const mtlsBase = `https://127.0.0.1:${mtlsPort}`;

const resources = {
  'https://api.test/opaque': { scope: 'api:read api:write', accessTokenFormat: 'opaque' },
  'https://api.test/jwt': { scope: 'api:read api:write', accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } },
};

const provider = new Provider(issuer, {
  adapter: Adapter,
  clients: config.clients,
  jwks: { keys: signingKeys },
  scopes: ['api:read', 'api:write'],
  clientAuthMethods: config.clientAuthMethods,
  enabledJWA: {
    clientAuthSigningAlgValues: ['HS256', 'HS384', 'HS512', 'RS256', 'PS256', 'ES256', 'ES384', 'EdDSA', 'Ed25519'],
    dPoPSigningAlgValues: ['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA', 'Ed25519'],
  },
  ttl: { ClientCredentials: () => knobs.ttl, AccessToken: () => knobs.ttl },
  discovery: { mtls_endpoint_aliases: { token_endpoint: `${mtlsBase}/token`, revocation_endpoint: `${mtlsBase}/token/revocation` } },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => knobs.tokenNonce },
    mTLS: {
      enabled: true,
      certificateBoundAccessTokens: true,
      tlsClientAuth: true,
      selfSignedTlsClientAuth: true,
      getCertificate: (ctx) => ctx.socket.getPeerX509Certificate?.(),
      certificateAuthorized: (ctx) => ctx.socket.authorized === true,
      certificateSubjectMatches: (ctx, property, expected) =>
        property === 'tls_client_auth_subject_dn' && ctx.socket.getPeerX509Certificate?.()?.subject.replace(/\n/g, ',') === expected,
    },
    resourceIndicators: {
      enabled: true,
      defaultResource: (_ctx, _client, oneOf) => oneOf,
      useGrantedResource: () => false,
      getResourceServerInfo: (_ctx, resource) => {
        const info = resources[resource];
        if (!info) throw new errors.InvalidTarget();
        return { ...info, accessTokenTTL: knobs.ttl };
      },
    },
  },
});
provider.on('server_error', (_ctx, error) => process.stderr.write(`oidc-provider server_error: ${error.stack}\n`));

// Count what reaches the endpoints, and (when a test asks) reshape token responses the way other
// servers send them: without expires_in (a JWT's exp is then all there is), with Entra's refresh_in.
provider.use(async (ctx, next) => {
  await next();
  const route = ctx.oidc?.route;
  if (route === 'token') {
    stats.token.push({
      client: ctx.oidc.client?.clientId ?? null,
      status: ctx.status,
      error: ctx.body?.error ?? null,
      dpop: ctx.get('dpop') !== '',
      tls: ctx.secure,
    });
    if (ctx.status === 200 && ctx.body?.access_token) {
      const body = { ...ctx.body };
      if (knobs.omitExpiresIn) delete body.expires_in;
      if (knobs.refreshIn !== undefined) body.refresh_in = knobs.refreshIn;
      if (knobs.ignoreDpop) body.token_type = 'Bearer';
      ctx.body = body;
    }
  } else if (route === 'revocation') {
    stats.revocation.push({ client: ctx.oidc.client?.clientId ?? null, status: ctx.status, tls: ctx.secure });
  } else if (route === 'introspection') {
    stats.introspection++;
  }
});
http.on('request', provider.callback());
mtls.on('request', provider.callback());

// The API: one resource server, reached over HTTP and over HTTPS (where it sees client certificates).
const apiNonces = { current: randomBytes(16).toString('base64url') };
const seenJti = new Set();
const thumbprint = (der) => createHash('sha256').update(der).digest('base64url');

// A JWT access token is not stored (nothing to introspect): the API verifies it with the issuer's keys.
const issuerKeys = jose.createLocalJWKSet({ keys: signingKeys.map(({ d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub }) => pub) });
async function introspect(token) {
  if (token.split('.').length === 3) {
    try {
      const { payload } = await jose.jwtVerify(token, issuerKeys, { issuer, typ: 'at+jwt' });
      return { active: true, ...payload, token_type: payload.cnf?.jkt ? 'DPoP' : 'Bearer' };
    } catch {
      return { active: false };
    }
  }
  const response = await fetch(`${issuer}/token/introspection`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('api:api-secret').toString('base64')}` },
    body: new URLSearchParams({ token }),
  });
  return response.json();
}

/** Why a request is refused (RFC 6750 / RFC 9449), or undefined when it may pass. */
async function refusal(req, secure) {
  const [scheme, token] = (req.headers.authorization ?? '').split(' ');
  if (!token || !/^(Bearer|DPoP)$/.test(scheme)) return { scheme: 'Bearer', error: 'invalid_request' };
  const info = await introspect(token);
  if (!info.active) return { scheme, error: 'invalid_token' };
  const jkt = info.cnf?.jkt;
  if ((scheme === 'DPoP') !== (jkt !== undefined)) return { scheme: jkt ? 'DPoP' : 'Bearer', error: 'invalid_token' };
  if (jkt) {
    const proof = req.headers.dpop;
    if (typeof proof !== 'string') return { scheme, error: 'invalid_dpop_proof' };
    try {
      const { payload, protectedHeader } = await jose.jwtVerify(proof, jose.EmbeddedJWK, { typ: 'dpop+jwt', maxTokenAge: '60s', clockTolerance: 5 });
      const origin = secure ? apiTlsBase : apiBase;
      const htu = `${origin}${new URL(req.url, origin).pathname}`;
      const ath = createHash('sha256').update(token).digest('base64url');
      if ((await jose.calculateJwkThumbprint(protectedHeader.jwk)) !== jkt) return { scheme, error: 'invalid_token' };
      if (payload.htm !== req.method || payload.htu !== htu || payload.ath !== ath || seenJti.has(payload.jti)) return { scheme, error: 'invalid_dpop_proof' };
      seenJti.add(payload.jti);
      if (knobs.apiNonce && (knobs.apiNonceEvery || payload.nonce !== apiNonces.current)) return { scheme, error: 'use_dpop_nonce' };
    } catch {
      return { scheme, error: 'invalid_dpop_proof' };
    }
  }
  const bound = info.cnf?.['x5t#S256'];
  if (bound) {
    const peer = secure ? req.socket.getPeerX509Certificate?.() : undefined;
    if (!peer || thumbprint(peer.raw) !== bound) return { scheme, error: 'invalid_token' };
  }
  return { info };
}

async function api(req, res, secure) {
  const { info, scheme, error } = await refusal(req, secure);
  const headers = { 'content-type': 'application/json' };
  if (knobs.apiNonce) headers['dpop-nonce'] = apiNonces.current;
  // An API that hands out a new nonce with every answer (so a proof never has the current one).
  if (knobs.apiNonceEvery) apiNonces.current = headers['dpop-nonce'] = randomBytes(16).toString('base64url');
  stats.api.push({
    path: req.url,
    status: info ? 200 : 401,
    error: error ?? null,
    scheme: (req.headers.authorization ?? '').split(' ')[0] ?? null,
    tls: secure,
  });
  if (!info) {
    headers['www-authenticate'] = scheme === 'DPoP' ? `DPoP error="${error}", algs="ES256 RS256 PS256 EdDSA"` : `Bearer error="${error}"`;
    res.writeHead(401, headers).end(JSON.stringify({ error }));
    return;
  }
  if (req.url === '/fail') return void res.writeHead(500, headers).end('{"error":"broken"}');
  if (req.url === '/redirect') return void res.writeHead(302, { ...headers, location: knobs.redirectTo }).end();
  res.writeHead(200, headers).end(JSON.stringify({ client_id: info.client_id, scope: info.scope ?? null, aud: info.aud ?? null, token_type: info.token_type }));
}
const apiHttp = createHttp((req, res) => void api(req, res, false));
const apiHttps = createHttps(tls, (req, res) => void api(req, res, true));
const apiBase = `http://127.0.0.1:${await listen(apiHttp)}`;
const apiTlsBase = `https://127.0.0.1:${await listen(apiHttps)}`;

// The tests' side door: what arrived, every token revoked at once, the knobs.
const admin = createHttp(async (req, res) => {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : {};
  if (req.url === '/stats') {
    res.end(JSON.stringify({ ...stats, tokens: [...stored.keys()].filter((key) => /^(ClientCredentials|AccessToken):/.test(key)).length }));
  } else if (req.url === '/revoke-all') {
    for (const key of [...stored.keys()]) if (/^(ClientCredentials|AccessToken):/.test(key)) stored.delete(key);
    res.end('{}');
  } else if (req.url === '/knobs') {
    Object.assign(knobs, body);
    if (body.rotateApiNonce) apiNonces.current = randomBytes(16).toString('base64url');
    res.end(JSON.stringify(knobs));
  } else if (req.url === '/reset') {
    stats.token.length = stats.revocation.length = stats.api.length = 0;
    stats.introspection = 0;
    res.end('{}');
  } else {
    res.writeHead(404).end();
  }
});
const adminBase = `http://127.0.0.1:${await listen(admin)}`;
process.stdout.write(`${JSON.stringify({ issuer, mtls: mtlsBase, api: apiBase, apiTls: apiTlsBase, admin: adminBase })}\n`);
process.on('SIGTERM', () => process.exit(0));
