// Client authentication beyond a plain secret, against the simulator's OAuth 2.0 dialect, which
// checks what it gets: client assertions (RFC 7523), DPoP proofs and bound tokens (RFC 9449) with
// server nonces, Basic read raw or form-decoded, and the server hints refresh_in and JWT exp. A
// real TokenManager and real axios over loopback; the simulator's own checks are probed directly.
import { createHash, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import { SignJWT, exportJWK } from 'jose';
import { TokenError, type ClientCredentialsOptions } from '../src';
import { startSimulator, type Simulator, type SimulatorOptions } from '../src/testing';
import { useFakeTime } from './helpers/fake-time';
import { axios, cleanup, settle, track } from './helpers/setup';
import { managerOf } from './helpers/oidc/clients';

afterEach(cleanup);

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const TRICKY_SECRET = 'q+Zr/9Kx=7:p%A b';
const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };

async function simulator(options: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  const sim = await startSimulator({ dialect: 'oauth2', ...options });
  track(() => sim.close());
  return sim;
}

const manage = managerOf;

const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');
const post = (url: string, body: Record<string, string>, headers: Record<string, string> = {}) =>
  axios.post(url, new URLSearchParams(body).toString(), { headers: { ...FORM, ...headers }, validateStatus: () => true });

const es256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ed25519 = generateKeyPairSync('ed25519');

describe('client authentication methods through a TokenManager', () => {
  const CASES: [string, Partial<ClientCredentialsOptions>, Partial<SimulatorOptions>, string | undefined][] = [
    ['client_secret_basic', { authMethod: 'client_secret_basic' }, {}, undefined],
    ['client_secret_post', { authMethod: 'client_secret_post' }, {}, undefined],
    ['client_secret_jwt', { authMethod: 'client_secret_jwt' }, {}, 'HS256'],
    ['client_secret_jwt', { authMethod: 'client_secret_jwt', algorithm: 'HS512' }, {}, 'HS512'],
    ['private_key_jwt', { privateKey: es256.privateKey }, { clientKeys: es256.publicKey }, 'ES256'],
    ['private_key_jwt', { privateKey: rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }) }, { clientKeys: [ed25519.publicKey, rsa.publicKey.export({ format: 'pem', type: 'spki' })] }, 'RS256'], // prettier-ignore
    ['private_key_jwt', { privateKey: ed25519.privateKey.export({ format: 'jwk' }) }, { clientKeys: ed25519.publicKey.export({ format: 'jwk' }) }, 'EdDSA'],
  ];

  test.each(CASES)(
    '%s (%#): token calls succeed (the JWT methods with a fresh, well-formed assertion each); revocation authenticates the same way',
    async (method, client, server, alg) => {
      const needsSecret = method.startsWith('client_secret_');
      const sim = await simulator({ clientSecret: 'a-client-secret-of-more-than-32-characters', ...server });
      const { tokens, api } = manage(sim, { ...client, ...(needsSecret && { clientSecret: sim.clientSecret }), scope: 'read' });
      await tokens.getToken();
      await tokens.refresh();
      expect((await api.get('/v1/things')).status).toBe(200);
      await tokens.dispose({ revoke: true });

      const calls = sim.stats.tokenCallLog;
      expect(calls.map((call) => [call.status, call.authMethod])).toEqual([
        [200, method],
        [200, method],
      ]);
      expect(sim.stats.revokeCallLog.map((call) => [call.status, call.authMethod])).toEqual([[200, method]]);
      expect(sim.stats.tokensRevoked).toBe(1);
      // The two token calls and the revocation: a new assertion each (none for a secret).
      const assertions = [...calls, ...sim.stats.revokeCallLog].map((call) => call.assertion);
      const seen = assertions.map(
        (a) =>
          a && {
            alg: a.alg,
            iss: a.iss,
            sub: a.sub,
            aud: a.aud,
            shortLived: (a.exp as number) > (a.iat as number) && (a.exp as number) - (a.iat as number) <= 300,
          },
      );
      const expected = alg && { alg, iss: sim.clientId, sub: sim.clientId, aud: sim.tokenUrl, shortLived: true };
      expect(seen).toEqual([expected, expected, expected]);
      expect(new Set(assertions.map((a) => a?.jti)).size).toBe(alg ? 3 : 1);
    },
  );

  test('an assertion aimed at the issuer is taken; one aimed at another server is invalid_client', async () => {
    const sim = await simulator({ clientKeys: es256.publicKey });
    const atIssuer = manage(sim, { privateKey: es256.privateKey, assertionAudience: sim.url });
    await atIssuer.tokens.getToken();
    expect(sim.stats.tokenCallLog[0]).toMatchObject({ status: 200, assertion: { aud: sim.url } });

    const elsewhere = manage(sim, { privateKey: es256.privateKey, assertionAudience: 'https://auth.elsewhere.example/token' });
    const outcome = await settle(elsewhere.tokens.getToken());
    expect((outcome as { error: TokenError }).error).toMatchObject({ code: 'invalid_credentials', status: 401, oauthError: 'invalid_client' });
    expect(sim.stats.tokenCallLog[1]!.refusal).toMatch(/aud/);
  });

  test('authMethods limits what the server takes: a Basic secret where only private_key_jwt is enabled is refused', async () => {
    const sim = await simulator({ clientKeys: es256.publicKey, authMethods: ['private_key_jwt'] });
    const outcome = await settle(manage(sim, { clientSecret: sim.clientSecret }).tokens.getToken());
    expect((outcome as { error: TokenError }).error.code).toBe('invalid_credentials');
    expect(sim.stats.tokenCallLog[0]).toMatchObject({ status: 401, authMethod: 'client_secret_basic', refusal: expect.stringMatching(/not enabled/) });
    await manage(sim, { privateKey: es256.privateKey }).tokens.getToken();
    expect(sim.stats.tokenCallLog[1]).toMatchObject({ status: 200, authMethod: 'private_key_jwt' });
  });
});

describe('refused credentials: invalid_credentials, and never a secret or a key in a message or util.inspect', () => {
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const WRONG: [string, Partial<ClientCredentialsOptions>, RegExp][] = [
    ['a wrong secret (client_secret_basic)', { clientSecret: TRICKY_SECRET }, /wrong client id or secret/],
    ['a wrong secret (client_secret_jwt)', { authMethod: 'client_secret_jwt', clientSecret: TRICKY_SECRET }, /client secret/],
    ['a key the server does not know (private_key_jwt, a JWK)', { privateKey: other.privateKey.export({ format: 'jwk' }) }, /registered client key/],
  ];

  test.each(WRONG)('%s', async (_name, client, refusal) => {
    const sim = await simulator({ clientKeys: es256.publicKey });
    const { tokens, events, provider } = manage(sim, client);
    const outcome = await settle(tokens.getToken());
    const error = (outcome as { error: TokenError }).error;
    expect(error).toBeInstanceOf(TokenError);
    expect(error).toMatchObject({ code: 'invalid_credentials', status: 401, oauthError: 'invalid_client' });
    expect(sim.stats.tokenCallLog[0]!.refusal).toMatch(refusal);
    const jwk = other.privateKey.export({ format: 'jwk' });
    const pem = other.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    const pemBody = pem.split('\n')[1]!;
    const shown = [
      error.message,
      inspect(error, { depth: 8 }),
      inspect(tokens, { depth: 8 }),
      inspect(provider, { depth: 8 }),
      ...events.error.map((e) => inspect(e)),
    ];
    for (const text of shown) {
      expect(text).not.toContain(TRICKY_SECRET);
      expect(text).not.toContain(encodeURIComponent(TRICKY_SECRET));
      expect(text).not.toContain(jwk.d);
      expect(text).not.toContain(pemBody);
      expect(text).not.toMatch(/eyJ[\w-]{10,}\.[\w-]{10,}/); // no assertion (a JWT) either
    }
  });
});

describe("the simulator's checks of a client assertion (RFC 7523 §3)", () => {
  const key = es256.privateKey;
  type Claims = { iss?: string; sub?: string; aud?: string; exp?: number; jti?: string };
  async function assertion(sim: Simulator, claims: Claims = {}, signWith: KeyObject | Uint8Array = key, alg = 'ES256'): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const { jti = randomUUID(), exp = now + 60, ...rest } = claims;
    const payload = { iss: sim.clientId, sub: sim.clientId, aud: sim.tokenUrl, iat: now, jti, exp, ...rest };
    return new SignJWT(payload).setProtectedHeader({ alg }).sign(signWith);
  }
  const call = (sim: Simulator, client_assertion: string, type = JWT_BEARER) =>
    post(sim.tokenUrl, { grant_type: 'client_credentials', client_assertion_type: type, client_assertion });

  test('a good assertion is taken once: its replay is refused', async () => {
    const sim = await simulator({ clientKeys: es256.publicKey });
    const once = await assertion(sim);
    expect((await call(sim, once)).status).toBe(200);
    const again = await call(sim, once);
    expect(again.status).toBe(401);
    expect(again.data).toMatchObject({ error: 'invalid_client' });
    expect(sim.stats.tokenCallLog[1]!.refusal).toMatch(/jti replayed/);
  });

  const now = () => Math.floor(Date.now() / 1000);
  const REFUSED: [string, (sim: Simulator) => Promise<string>, RegExp, string?][] = [
    ['expired', (sim) => assertion(sim, { exp: now() - 5 }), /expired/],
    ['living an hour', (sim) => assertion(sim, { exp: now() + 3600 }), /ahead/],
    ['iss another client', (sim) => assertion(sim, { iss: 'someone-else' }), /iss and sub/],
    ['sub another client', (sim) => assertion(sim, { sub: 'someone-else' }), /iss and sub/],
    ['aud another server', (sim) => assertion(sim, { aud: 'https://elsewhere.example/token' }), /aud/],
    ['no jti', (sim) => new SignJWT({ iss: sim.clientId, sub: sim.clientId, aud: sim.tokenUrl, exp: now() + 60 }).setProtectedHeader({ alg: 'ES256' }).sign(key), /jti/], // prettier-ignore
    ['signed with another key', (sim) => assertion(sim, {}, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey), /signature/],
    ['HS256 with a wrong secret', (sim) => assertion(sim, {}, new TextEncoder().encode('not-the-secret-not-the-secret-00'), 'HS256'), /signature/],
    ['HS256 keyed by the public key (alg confusion)', (sim) => assertion(sim, {}, new TextEncoder().encode(es256.publicKey.export({ format: 'pem', type: 'spki' }) as string), 'HS256'), /signature/], // prettier-ignore
    ['unsigned (alg none)', async (sim) => `${(await assertion(sim)).split('.').slice(0, 2).join('.').replace(/^[^.]+/, Buffer.from('{"alg":"none"}').toString('base64url'))}.`, /signature/], // prettier-ignore
    ['of another assertion type', (sim) => assertion(sim), /client_assertion_type/, 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer'],
    ['not a JWS at all', async () => 'not-a-jwt', /compact JWS/],
  ];

  test.each(REFUSED)('an assertion %s is 401 invalid_client', async (_name, make, refusal, type = JWT_BEARER) => {
    const sim = await simulator({ clientKeys: es256.publicKey });
    const answer = await call(sim, await make(sim), type);
    expect(answer.status).toBe(401);
    expect(answer.data).toMatchObject({ error: 'invalid_client' });
    expect(sim.stats.tokenCallLog[0]!.refusal).toMatch(refusal);
    expect(sim.stats.tokensIssued).toBe(0);
  });

  test('a client that sends a secret and an assertion at once is refused (RFC 6749 §2.3)', async () => {
    const sim = await simulator({ clientKeys: es256.publicKey });
    const basic = `Basic ${Buffer.from(`${sim.clientId}:${sim.clientSecret}`).toString('base64')}`;
    const answer = await post(
      sim.tokenUrl,
      { grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: await assertion(sim) },
      { Authorization: basic },
    );
    expect(answer.status).toBe(400);
    expect(sim.stats.tokensIssued).toBe(0);
  });
});

describe('raw or form-decoded Basic (a secret that form-encoding changes)', () => {
  test.each<[string, SimulatorOptions['basicDecoding'], 'form' | 'raw', boolean]>([
    ['a raw-decoding server refuses form-encoded credentials', 'raw', 'form', false],
    ['a raw-decoding server takes raw credentials', 'raw', 'raw', true],
    ['the default (form-decoding) server takes form-encoded credentials', undefined, 'form', true],
  ])('%s', async (_name, basicDecoding, basicEncoding, works) => {
    const sim = await simulator({ clientId: 'svc-raw', clientSecret: TRICKY_SECRET, ...(basicDecoding && { basicDecoding }) });
    const { tokens } = manage(sim, { clientSecret: TRICKY_SECRET, basicEncoding });
    const outcome = await settle(tokens.getToken());
    expect(outcome.ok).toBe(works);
    expect(sim.stats.tokenCallLog[0]).toMatchObject({ authMethod: 'client_secret_basic', status: works ? 200 : 401 });
    expect(outcome.ok ? 'ok' : (outcome as { error: TokenError }).error.code).toBe(works ? 'ok' : 'invalid_credentials');
  });
});

describe('DPoP (RFC 9449)', () => {
  test('end to end: a proof on the token call, a DPoP-bound token, and every API request with a proof whose ath is the token hash', async () => {
    const sim = await simulator({ dpop: true });
    const { tokens, api, events } = manage(sim, { clientSecret: sim.clientSecret, dpop: true });
    const response = await api.get('/v1/things?page=2');
    expect(response.status).toBe(200);
    expect((await api.post('/v1/things', { a: 1 })).status).toBe(200);
    const token = events.refresh[0]!.token;
    expect(token.tokenType).toBe('DPoP');
    expect(response.config.headers.Authorization).toBe(`DPoP ${token.accessToken}`);
    const jkt = sim.issuance(token.accessToken)?.jkt;
    expect(jkt).toEqual(expect.any(String));
    expect(sim.stats.dpopProofs).toEqual([
      expect.objectContaining({ endpoint: 'token', verdict: 'ok', typ: 'dpop+jwt', htm: 'POST', htu: sim.tokenUrl, jkt }),
      expect.objectContaining({ endpoint: 'api', verdict: 'ok', htm: 'GET', htu: `${sim.url}/v1/things`, ath: sha256(token.accessToken), jkt }),
      expect.objectContaining({ endpoint: 'api', verdict: 'ok', htm: 'POST', htu: `${sim.url}/v1/things`, ath: sha256(token.accessToken), jkt }),
    ]);
    expect(sim.stats.dpopProofs[0]).not.toHaveProperty('ath');
    expect(new Set(sim.stats.dpopProofs.map((proof) => proof.jti)).size).toBe(3);
    expect(sim.stats.apiOk).toBe(2);
    expect(sim.stats.dpopRefusals).toBe(0);
    expect(await tokens.getToken()).toBe(token.accessToken);
  });

  test('the API refuses a DPoP-bound token sent as Bearer, without a proof, or with a proof that does not fit', async () => {
    const sim = await simulator({ dpop: true });
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const { tokens } = manage(sim, { clientSecret: sim.clientSecret, dpop: { privateKey: key.privateKey } });
    const token = await tokens.getToken();
    const jwk = await exportJWK(key.publicKey);
    const url = `${sim.url}/v1/things`;
    const proof = (payload: Record<string, unknown>, signWith: KeyObject = key.privateKey, header: Record<string, unknown> = {}) =>
      new SignJWT({ htm: 'GET', htu: url, iat: Math.floor(Date.now() / 1000), jti: randomUUID(), ath: sha256(token), ...payload })
        .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk, ...header })
        .sign(signWith);
    const get = (headers: Record<string, string>) => axios.get(url, { headers, validateStatus: () => true });
    const good = await proof({});
    expect((await get({ Authorization: `DPoP ${token}`, DPoP: good })).status).toBe(200);

    const refusals: [Record<string, string>, string][] = [
      [{ Authorization: `Bearer ${token}` }, 'invalid_token'],
      [{ Authorization: `DPoP ${token}` }, 'invalid_dpop_proof'],
      [{ Authorization: `DPoP ${token}`, DPoP: good }, 'invalid_dpop_proof'], // replayed
      [{ Authorization: `DPoP ${token}`, DPoP: await proof({ ath: sha256('another token') }) }, 'invalid_dpop_proof'],
      [{ Authorization: `DPoP ${token}`, DPoP: await proof({ htm: 'POST' }) }, 'invalid_dpop_proof'],
      [{ Authorization: `DPoP ${token}`, DPoP: await proof({ htu: `${url}?page=2` }) }, 'invalid_dpop_proof'],
      [{ Authorization: `DPoP ${token}`, DPoP: await proof({ iat: Math.floor(Date.now() / 1000) - 600 }) }, 'invalid_dpop_proof'],
      [{ Authorization: `DPoP ${token}`, DPoP: await proof({}, key.privateKey, { typ: 'JWT' }) }, 'invalid_dpop_proof'],
      [{ Authorization: `DPoP ${token}`, DPoP: await proof({}, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey) }, 'invalid_dpop_proof'],
    ];
    // Signed by another key that it embeds: a valid proof, but not of the key the token is bound to.
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const strangerProof = await proof({}, stranger.privateKey, { jwk: await exportJWK(stranger.publicKey) });
    refusals.push([{ Authorization: `DPoP ${token}`, DPoP: strangerProof }, 'invalid_dpop_proof']);
    const answers = await Promise.all(refusals.map(async ([headers]) => get(headers)));
    expect(answers.map((answer) => [answer.status, /^DPoP error="([a-z_]+)"/.exec(String(answer.headers['www-authenticate']))?.[1]])).toEqual(
      refusals.map(([, error]) => [401, error]),
    );
    expect(sim.stats.dpopRefusals).toBe(refusals.length);
    expect(sim.stats.dpopProofs.filter((p) => p.endpoint === 'api').map((p) => p.verdict)).toEqual([
      'ok',
      ...refusals.slice(2).map(() => expect.not.stringMatching(/^ok$/)),
    ]);
    // The key the token is bound to: RFC 7638 thumbprint, as the simulator computed it.
    const { crv, kty, x, y } = key.publicKey.export({ format: 'jwk' });
    expect(sim.issuance(token)?.jkt).toBe(sha256(JSON.stringify({ crv, kty, x, y })));
  });

  test('server nonces: the token call and an API request each cost exactly one retry', async () => {
    const sim = await simulator({ dpop: { nonce: true } });
    const { api } = manage(sim, { clientSecret: sim.clientSecret, dpop: true });
    expect((await api.get('/v1/things')).status).toBe(200);
    // The token endpoint: 400 use_dpop_nonce, then the same call with the nonce.
    expect(sim.stats.tokenCallLog.map((call) => call.status)).toEqual([400, 200]);
    expect(sim.stats.tokenCallLog[0]!.refusal).toMatch(/use_dpop_nonce/);
    expect(sim.stats.dpopProofs.map((p) => [p.endpoint, p.verdict, p.nonce])).toEqual([
      ['token', 'use_dpop_nonce', undefined],
      ['token', 'ok', sim.dpopNonce],
      ['api', 'ok', sim.dpopNonce], // the nonce learnt at the token endpoint (same origin)
    ]);
    // A new nonce at the API: 401 use_dpop_nonce with the nonce, then the same request with it.
    const fresh = sim.rotateDpopNonce();
    expect((await api.get('/v1/things')).status).toBe(200);
    expect(sim.stats.apiCalls).toBe(3);
    expect(sim.stats.dpopRefusals).toBe(1);
    expect(sim.stats.dpopProofs.slice(3).map((p) => [p.endpoint, p.verdict, p.nonce])).toEqual([
      ['api', 'use_dpop_nonce', expect.not.stringMatching(fresh)],
      ['api', 'ok', fresh],
    ]);
    expect(sim.stats.tokenCalls).toBe(2); // no new token for a nonce
  });

  test('a DPoP proof to a server that ignores DPoP gets a Bearer token: TokenError invalid_response that says so', async () => {
    const sim = await simulator();
    const { tokens } = manage(sim, { clientSecret: sim.clientSecret, dpop: true });
    const outcome = await settle(tokens.getToken());
    const error = (outcome as { error: TokenError }).error;
    expect(error).toBeInstanceOf(TokenError);
    expect(error.code).toBe('invalid_response');
    expect(error.message).toMatch(/server ignored the DPoP proof/);
    expect(sim.stats.dpopProofs).toEqual([expect.objectContaining({ endpoint: 'token', verdict: 'ignored', htm: 'POST' })]);
  });

  test('a server that requires DPoP refuses a token call without a proof: invalid_dpop_proof', async () => {
    const sim = await simulator({ dpop: { required: true } });
    const outcome = await settle(manage(sim, { clientSecret: sim.clientSecret }).tokens.getToken());
    expect((outcome as { error: TokenError }).error).toMatchObject({ status: 400, oauthError: 'invalid_dpop_proof' });
    expect(sim.stats.tokensIssued).toBe(0);
    const bearer = await simulator({ dpop: true });
    await manage(bearer, { clientSecret: bearer.clientSecret }).tokens.getToken();
    expect(bearer.stats.tokenCallLog[0]).toMatchObject({ status: 200 });
    expect(bearer.stats.dpopProofs).toEqual([]);
  });
});

describe('server hints', () => {
  test('jwtAccessTokens with omitExpiresIn: the answer has no expires_in, the token is a JWT whose exp the manager uses', async () => {
    const sim = await simulator({ jwtAccessTokens: true, omitExpiresIn: true, tokenLifetimeSeconds: 120, refreshInSeconds: 30 });
    const basic = `Basic ${Buffer.from(`${sim.clientId}:${sim.clientSecret}`).toString('base64')}`;
    const raw = await post(sim.tokenUrl, { grant_type: 'client_credentials', scope: 'read' }, { Authorization: basic });
    expect(raw.data).not.toHaveProperty('expires_in');
    expect(raw.data).toMatchObject({ token_type: 'Bearer', refresh_in: 30, scope: 'read' });
    expect(claimsOf(raw.data.access_token)).toMatchObject({ iss: sim.url, sub: sim.clientId, exp: expect.any(Number), scope: 'read' });

    const { events, api } = manage(sim, { clientSecret: sim.clientSecret });
    expect((await api.get('/v1/things')).status).toBe(200);
    const token = events.refresh[0]!.token;
    const { exp } = claimsOf(token.accessToken) as { exp: number };
    expect(token.expiresAt).toBe(exp * 1000);
    expect(token.expiresAt - token.issuedAt).toBeLessThanOrEqual(120_000);
    expect(token.expiresAt - token.issuedAt).toBeGreaterThan(118_000);
  });

  test('omitExpiresIn with opaque tokens: the manager falls back to its default lifetime', async () => {
    const sim = await simulator({ omitExpiresIn: true, tokenLifetimeSeconds: 120 });
    const { tokens, events } = manage(sim, { clientSecret: sim.clientSecret });
    await tokens.getToken();
    const token = events.refresh[0]!.token;
    expect(token.expiresAt - token.issuedAt).toBe(10 * 60_000);
  });

  test('the hint options are for the oauth2 dialect only', async () => {
    await expect(startSimulator({ dialect: 'crowdstrike', dpop: true })).rejects.toThrow(/dpop is for the oauth2 dialect only/);
    await expect(startSimulator({ dialect: 'onelogin', refreshInSeconds: 5, clientKeys: es256.publicKey })).rejects.toThrow(/clientKeys, refreshInSeconds are/);
  });

  describe('in simulated time', () => {
    const fake = useFakeTime(cleanup);

    test('refresh_in: a 10-minute token is refreshed at the 120 s hint, long before its own window', async () => {
      const sim = await simulator({ tokenLifetimeSeconds: 600, refreshInSeconds: 120 });
      const { tokens, events } = manage(sim, { clientSecret: sim.clientSecret });
      const time = fake.now();
      await time.run(tokens.getToken());
      const first = events.refresh[0]!.token;
      expect(first.refreshAt! - first.issuedAt).toBe(120_000);
      await time.advance(119_000, 1_000);
      expect(sim.stats.tokenCalls).toBe(1);
      const took = await time.until(() => sim.stats.tokensIssued === 2, 10_000, 100);
      expect(119_000 + took).toBeLessThanOrEqual(121_000);
      await time.settle(() => events.refresh.length === 2);
      expect(events.refresh.map((e) => e.reason)).toEqual(['initial', 'scheduled']);
    });

    test('JWT exp without expires_in: a 30 s token is refreshed within its 30 s, not after the 10 min default', async () => {
      const sim = await simulator({ jwtAccessTokens: true, omitExpiresIn: true, tokenLifetimeSeconds: 30 });
      const { tokens, events } = manage(sim, { clientSecret: sim.clientSecret });
      const time = fake.now();
      await time.run(tokens.getToken());
      const took = await time.until(() => sim.stats.tokensIssued === 2, 60_000, 250);
      expect(took).toBeLessThan(30_000);
      await time.settle(() => events.refresh.length === 2);
      expect(events.refresh[1]!.reason).toBe('scheduled');
      expect(sim.stats.expiredTokenSends).toBe(0);
    });
  });
});
