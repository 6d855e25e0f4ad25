// mTLS client authentication and certificate-bound tokens (RFC 8705), and resource indicators (RFC
// 8707), against the simulator's OAuth 2.0 dialect with `tls`: every listener speaks HTTPS and asks
// for a client certificate. A real TokenManager and real axios over loopback, with certificates the
// openssl CLI makes for this run; the simulator's own checks are probed directly.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, TokenError, type ClientCredentialsOptions } from '../src';
import { startSimulator, type Simulator, type SimulatorOptions } from '../src/testing';
import { certificates, type Certificates, type Pem } from './helpers/certs';
import { axios, cleanup, settle, track } from './helpers/setup';
import { managerOf } from './helpers/oidc/clients';

let dir: string;
let certs: Certificates;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tokenwarden-mtls-'));
  certs = certificates(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(cleanup);

const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const SUBJECT = 'CN=tls-client';

/** RFC 8705 `x5t#S256` of a PEM certificate. */
const x5t = (pem: string) => Buffer.from(new X509Certificate(pem).fingerprint256.replace(/:/g, ''), 'hex').toString('base64url');
const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

async function simulator(options: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  const sim = await startSimulator({ dialect: 'oauth2', ...options });
  track(() => sim.close());
  return sim;
}

/** An HTTPS simulator that trusts the test CA for client certificates. */
const tlsSimulator = (options: Partial<SimulatorOptions> = {}) =>
  simulator({ tls: { cert: certs.server.cert, key: certs.server.key, ca: certs.ca }, ...options });

const manage = managerOf;

/** A connection of our own to the simulator: trusting its CA, presenting `client` if given. */
function agent(client?: Pem): Agent {
  const own = new Agent({ ca: certs.ca, ...(client && { cert: client.cert, key: client.key }) });
  track(() => Promise.resolve(own.destroy()));
  return own;
}

const mtls = (pem: Pem): Partial<ClientCredentialsOptions> => ({ tls: { cert: pem.cert, key: pem.key, ca: certs.ca } });

describe('mTLS client authentication (RFC 8705) through a TokenManager', () => {
  const CASES: [string, () => Pem, () => Partial<SimulatorOptions>][] = [
    ['tls_client_auth', () => certs.client, () => ({ tlsClientSubject: SUBJECT })],
    ['self_signed_tls_client_auth', () => certs.selfSigned, () => ({ selfSignedThumbprints: [certs.selfSigned.cert] })],
  ];

  test.each(CASES)(
    '%s: the token call authenticates with the certificate, the bound token reaches the API over HTTPS through attach(), revoke on dispose authenticates the same way',
    async (method, pem, server) => {
      const sim = await tlsSimulator({ ...server(), jwtAccessTokens: true });
      expect(sim.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const { tokens, api } = manage(sim, { authMethod: method as ClientCredentialsOptions['authMethod'], ...mtls(pem()) });
      const thumbprint = x5t(pem().cert);

      const token = await tokens.getToken();
      expect(sim.stats.tokenCallLog).toEqual([expect.objectContaining({ status: 200, authMethod: method, clientCertificate: thumbprint })]);
      expect(sim.stats.tokenCallLog[0]!.refusal).toBeUndefined();
      // Certificate-bound: the simulator remembers the thumbprint, and the JWT says it (cnf.x5t#S256).
      expect(sim.issuance(token)?.x5tS256).toBe(thumbprint);
      expect(claimsOf(token)).toMatchObject({ client_id: sim.clientId, cnf: { 'x5t#S256': thumbprint } });

      const answer = await api.get('/v1/things');
      expect(answer.status).toBe(200);
      expect(sim.stats.apiTlsLog).toEqual([{ at: expect.any(Number), path: '/v1/things', clientCertificate: thumbprint, boundTo: thumbprint, status: 200 }]);
      expect(sim.stats.certificateRefusals).toBe(0);

      await tokens.dispose({ revoke: true });
      expect(sim.stats.revokeCallLog).toEqual([expect.objectContaining({ status: 200, authMethod: method, clientCertificate: thumbprint })]);
      expect(sim.stats.tokensRevoked).toBe(1);
      expect(sim.isLive(token)).toBe(false);
    },
  );

  const WRONG: [string, string, () => Pem, () => Partial<SimulatorOptions>, RegExp][] = [
    [
      'tls_client_auth, a certificate the CA signed for another subject',
      'tls_client_auth',
      () => certs.other,
      () => ({ tlsClientSubject: SUBJECT }),
      /subject/,
    ],
    [
      'tls_client_auth, the right subject but not signed by the CA',
      'tls_client_auth',
      () => certs.impostor,
      () => ({ tlsClientSubject: SUBJECT }),
      /not signed/,
    ],
    ['self_signed_tls_client_auth, a certificate not registered', 'self_signed_tls_client_auth', () => certs.selfSigned, () => ({ selfSignedThumbprints: [x5t(certs.impostor.cert)] }), /not registered/], // prettier-ignore
  ];

  test.each(WRONG)('%s: TokenError invalid_credentials, invalid_client, and no token issued', async (_name, method, pem, server, refusal) => {
    const sim = await tlsSimulator(server());
    const { tokens } = manage(sim, { authMethod: method as ClientCredentialsOptions['authMethod'], ...mtls(pem()) });
    const outcome = await settle(tokens.getToken());
    expect(outcome.ok).toBe(false);
    const error = (outcome as { error: TokenError }).error;
    expect(error).toBeInstanceOf(TokenError);
    expect(error).toMatchObject({ code: 'invalid_credentials', status: 401, oauthError: 'invalid_client' });
    expect(sim.stats.tokenCallLog[0]).toMatchObject({
      status: 401,
      authMethod: method,
      clientCertificate: x5t(pem().cert),
      refusal: expect.stringMatching(refusal),
    });
    expect(sim.stats.tokensIssued).toBe(0);
  });

  test('a client_id alone, on a connection without a certificate, is refused: invalid_client', async () => {
    const sim = await tlsSimulator({ tlsClientSubject: SUBJECT });
    const answer = await axios.post(sim.tokenUrl, new URLSearchParams({ grant_type: 'client_credentials', client_id: sim.clientId }).toString(), {
      headers: FORM,
      httpsAgent: agent(),
      validateStatus: () => true,
    });
    expect(answer.status).toBe(401);
    expect(answer.data).toMatchObject({ error: 'invalid_client' });
    expect(sim.stats.tokenCallLog[0]).toMatchObject({ status: 401, authMethod: 'none', refusal: 'no client authentication' });
    expect(sim.stats.tokenCallLog[0]!.clientCertificate).toBeUndefined();
  });
});

describe('certificate-bound tokens at the API (RFC 8705 §3)', () => {
  test('the bound token sent on a connection without its certificate, or with another one, is refused: 401 invalid_token', async () => {
    const sim = await tlsSimulator({ tlsClientSubject: SUBJECT });
    const { tokens } = manage(sim, { authMethod: 'tls_client_auth', ...mtls(certs.client) });
    const token = await tokens.getToken();
    const thumbprint = x5t(certs.client.cert);
    const send = (httpsAgent: Agent) =>
      axios.get(`${sim.url}/v1/things`, { headers: { Authorization: `Bearer ${token}` }, httpsAgent, validateStatus: () => true });

    const bare = await send(agent());
    expect(bare.status).toBe(401);
    expect(bare.data).toMatchObject({ error: 'invalid_token' });
    expect(bare.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
    const other = await send(agent(certs.other));
    expect(other.status).toBe(401);
    // The same token on a connection that presents its certificate is taken: the certificate is what mattered.
    const own = await send(agent(certs.client));
    expect(own.status).toBe(200);

    expect(sim.stats.certificateRefusals).toBe(2);
    expect(sim.stats.api401).toBe(2);
    expect(sim.stats.apiTlsLog.map(({ clientCertificate, boundTo, status }) => ({ clientCertificate, boundTo, status }))).toEqual([
      { clientCertificate: undefined, boundTo: thumbprint, status: 401 },
      { clientCertificate: x5t(certs.other.cert), boundTo: thumbprint, status: 401 },
      { clientCertificate: thumbprint, boundTo: thumbprint, status: 200 },
    ]);
    expect(sim.isLive(token)).toBe(true);
  });

  test('tokens.fetch will not send a certificate-bound token without a dispatcher: ConfigError, nothing sent', async () => {
    const sim = await tlsSimulator({ tlsClientSubject: SUBJECT });
    const { tokens } = manage(sim, { authMethod: 'tls_client_auth', ...mtls(certs.client) });
    const outcome = await settle(tokens.fetch('/v1/things'));
    expect((outcome as { error: ConfigError }).error).toMatchObject({ name: 'ConfigError', code: 'invalid_config', option: 'dispatcher' });
    expect(sim.stats.apiCalls).toBe(0);
  });

  test('a token issued on a connection without a certificate (a secret over HTTPS) is not bound', async () => {
    const sim = await tlsSimulator();
    const { tokens } = manage(sim, { clientSecret: sim.clientSecret, tls: { ca: certs.ca } });
    const token = await tokens.getToken();
    expect(sim.stats.tokenCallLog[0]).toMatchObject({ status: 200, authMethod: 'client_secret_basic' });
    expect(sim.stats.tokenCallLog[0]!.clientCertificate).toBeUndefined();
    expect(sim.issuance(token)?.x5tS256).toBeUndefined();
    const answer = await axios.get(`${sim.url}/v1/things`, { headers: { Authorization: `Bearer ${token}` }, httpsAgent: agent(), validateStatus: () => true });
    expect(answer.status).toBe(200);
    expect(sim.stats.apiTlsLog).toEqual([{ at: expect.any(Number), path: '/v1/things', status: 200 }]);
  });
});

describe('resource indicators (RFC 8707)', () => {
  const API = 'https://api.example.test/';
  const REPORTS = 'https://reports.example.test/v2';

  test.each([
    ['one resource', API, API],
    ['several resources', [API, REPORTS], [API, REPORTS]],
  ] as const)('%s: repeated resource parameters at the token endpoint, and the JWT access token is for them (aud)', async (_name, resource, aud) => {
    const sim = await simulator({ jwtAccessTokens: true, resources: [API, REPORTS, 'https://unused.example.test/'] });
    const { tokens } = manage(sim, { clientSecret: sim.clientSecret, resource });
    const token = await tokens.getToken();
    expect(sim.stats.tokenCallLog).toEqual([expect.objectContaining({ status: 200, resources: Array.isArray(resource) ? resource : [resource] })]);
    expect(claimsOf(token)['aud']).toEqual(aud);
  });

  test('no resource: none recorded, and no aud', async () => {
    const sim = await simulator({ jwtAccessTokens: true, resources: [API] });
    const { tokens } = manage(sim, { clientSecret: sim.clientSecret });
    const token = await tokens.getToken();
    expect(sim.stats.tokenCallLog[0]).toMatchObject({ status: 200 });
    expect(sim.stats.tokenCallLog[0]!.resources).toBeUndefined();
    expect(claimsOf(token)).not.toHaveProperty('aud');
  });

  test('a resource the server does not know: TokenError invalid_target, after one token call', async () => {
    const sim = await simulator({ resources: [API] });
    const { tokens } = manage(sim, { clientSecret: sim.clientSecret, resource: [API, 'https://elsewhere.example.test/'] });
    const outcome = await settle(tokens.getToken());
    expect(outcome.ok).toBe(false);
    const error = (outcome as { error: TokenError }).error;
    expect(error).toBeInstanceOf(TokenError);
    expect(error).toMatchObject({ status: 400, oauthError: 'invalid_target' });
    expect(sim.stats.tokenCalls).toBe(1);
    expect(sim.stats.tokenCallLog[0]).toMatchObject({
      status: 400,
      resources: [API, 'https://elsewhere.example.test/'],
      refusal: expect.stringMatching(/elsewhere\.example\.test.*not one this server knows/),
    });
    expect(sim.stats.tokensIssued).toBe(0);
  });

  test('the simulator refuses a resource that is not an absolute URI, or has a fragment, with invalid_target', async () => {
    const sim = await simulator();
    const ask = (resources: string[]) => {
      const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: sim.clientId, client_secret: sim.clientSecret });
      for (const resource of resources) body.append('resource', resource);
      return axios.post(sim.tokenUrl, body.toString(), { headers: FORM, validateStatus: () => true });
    };
    const answers = await Promise.all([ask(['/relative']), ask([`${API}#part`]), ask([API, REPORTS])]);
    expect(answers.map((answer) => [answer.status, (answer.data as { error?: string }).error])).toEqual([
      [400, 'invalid_target'],
      [400, 'invalid_target'],
      [200, undefined],
    ]);
  });

  test('over mTLS the JWT access token carries both: aud the resource, cnf the certificate', async () => {
    const sim = await tlsSimulator({ tlsClientSubject: SUBJECT, jwtAccessTokens: true, resources: [API] });
    const { tokens, api } = manage(sim, { authMethod: 'tls_client_auth', ...mtls(certs.client), resource: API });
    const token = await tokens.getToken();
    expect(claimsOf(token)).toMatchObject({ aud: API, cnf: { 'x5t#S256': x5t(certs.client.cert) } });
    expect((await api.get('/v1/things')).status).toBe(200);
  });
});
