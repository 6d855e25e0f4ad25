// Provider specifics: CrowdStrike region autodiscovery and tenants, OAuth 2.0 client authentication,
// and a clear error for every bad option.
import { CROWDSTRIKE_CLOUDS, ConfigError, TokenManager, clientCredentials, crowdstrike, memoryStore, onelogin, parseCloud, type TokenError } from '../src';
import { startSimulator, type Simulator } from '../src/testing';
import { axios, cleanup, record, settle, track } from './helpers/setup';

afterEach(cleanup);

async function clouds(regions: string[], home: string): Promise<Simulator> {
  const sim = await startSimulator({ dialect: 'crowdstrike', regions, homeRegion: home });
  track(() => sim.close());
  return sim;
}

function manage(provider: ConstructorParameters<typeof TokenManager>[0]['provider']) {
  const tokens = new TokenManager({ provider, retry: { retries: 1, minTimeout: 5, maxTimeout: 5 } });
  track(() => tokens.dispose({ revoke: false }));
  return tokens;
}

describe('crowdstrike region autodiscovery', () => {
  test.each([
    ['us-2', 'us-2'],
    ['a gov cloud, spelled usgov1', 'usgov1'],
    ['us-gov-2, spelled GOV2', 'GOV2'],
  ])('credentials of %s: discover, revoke the discovery token at home, fetch there, send API calls there', async (_name, header) => {
    const home = parseCloud(header)!;
    const sim = await clouds(['us-1', home], header);
    const provider = crowdstrike({
      clientId: sim.clientId,
      clientSecret: sim.clientSecret,
      cloudUrls: { 'us-1': sim.urlFor('us-1'), [home]: sim.urlFor(home) },
    });
    const tokens = manage(provider);
    const events = record(tokens);
    expect(provider.cloud).toBeUndefined();
    const api = axios.create();
    tokens.attach(api);
    const response = await api.get('/devices/queries/devices/v1');
    expect(response.status).toBe(200);
    expect(provider.cloud).toBe(home);
    expect(tokens.baseUrl).toBe(sim.urlFor(home));
    expect(response.config.baseURL).toBe(sim.urlFor(home));
    expect(sim.stats.tokenCalls).toBe(2); // discovery at us-1, then the home cloud
    expect(sim.stats.revokeCalls).toBe(1); // the discovery token handed back
    expect(events.refresh).toHaveLength(1); // the caller only ever sees the home token
    expect(sim.isLive(events.refresh[0]!.token.accessToken)).toBe(true);
    // Later refreshes go straight home.
    await tokens.refresh();
    expect(sim.stats.tokenCalls).toBe(3);
  });

  test('replicas sharing a store: the one that adopts a token takes the cloud its fetcher discovered', async () => {
    const sim = await clouds(['us-1', 'us-2'], 'us-2');
    const store = memoryStore();
    const cloudUrls = { 'us-1': sim.urlFor('us-1'), 'us-2': sim.urlFor('us-2') };
    const first = crowdstrike({ clientId: sim.clientId, clientSecret: sim.clientSecret, cloudUrls });
    const second = crowdstrike({ clientId: sim.clientId, clientSecret: sim.clientSecret, cloudUrls });
    const a = new TokenManager({ provider: first, store });
    const b = new TokenManager({ provider: second, store });
    track(() => a.dispose({ revoke: false }));
    track(() => b.dispose({ revoke: false }));
    const token = await a.getToken();
    expect(await b.getToken()).toBe(token); // adopted, no token call of its own
    expect(sim.stats.tokenCalls).toBe(2); // discovery at us-1, then us-2: both by the first one
    expect(b.baseUrl).toBe(sim.urlFor('us-2'));
    expect(second.cloud).toBe('us-2');
    const api = axios.create();
    b.attach(api);
    expect((await api.get('/devices/queries/devices/v1')).status).toBe(200);
    expect(sim.stats.wrongRegionSends).toBe(0);
    // A store's word never points the bearer at a host the provider does not know.
    const third = crowdstrike({ clientId: sim.clientId, clientSecret: sim.clientSecret, cloudUrls });
    expect(third.adoptState!({ cloud: 'https://evil.example' })).toBe(false);
    expect(third.baseUrl).toBe(sim.urlFor('us-1'));
  });

  test('credentials that belong to us-1 stay there with one token call', async () => {
    const sim = await clouds(['us-1'], 'us-1');
    const provider = crowdstrike({ clientId: sim.clientId, clientSecret: sim.clientSecret, cloudUrls: { 'us-1': sim.urlFor('us-1') } });
    await manage(provider).getToken();
    expect(provider.cloud).toBe('us-1');
    expect(sim.stats.tokenCalls).toBe(1);
    expect(sim.stats.revokeCalls).toBe(0);
  });

  test('a fixed cloud or baseUrl skips discovery', async () => {
    const sim = await clouds(['us-1', 'eu-1'], 'eu-1');
    const fixed = crowdstrike({ clientId: sim.clientId, clientSecret: sim.clientSecret, cloud: 'eu-1', cloudUrls: { 'eu-1': sim.urlFor('eu-1') } });
    await manage(fixed).getToken();
    expect(fixed.baseUrl).toBe(sim.urlFor('eu-1'));
    expect(sim.stats.tokenCalls).toBe(1);
    expect(crowdstrike({ clientId: 'a', clientSecret: 'b', cloud: 'us-gov-2' }).baseUrl).toBe('https://api.us-gov-2.crowdstrike.mil');
    expect(crowdstrike({ clientId: 'a', clientSecret: 'b' }).baseUrl).toBe(CROWDSTRIKE_CLOUDS['us-1']);
  });

  test('region names parse in every spelling the SDKs have seen', () => {
    expect(['us-2', 'us2', 'US2', 'Us-2'].map(parseCloud)).toEqual(['us-2', 'us-2', 'us-2', 'us-2']);
    expect(['usgov1', 'gov1', 'US-GOV-1'].map(parseCloud)).toEqual(['us-gov-1', 'us-gov-1', 'us-gov-1']);
    expect(['usgov2', 'gov2', 'eu-1', 'us-3'].map(parseCloud)).toEqual(['us-gov-2', 'us-gov-2', 'eu-1', 'us-3']);
    expect(parseCloud('mars-1')).toBeUndefined();
  });
});

describe('crowdstrike tenants and refusals', () => {
  test('member_cid is sent; a CID that is not a child is forbidden, not bad credentials', async () => {
    const sim = await startSimulator({ dialect: 'crowdstrike', memberCids: ['child-cid-1'] });
    track(() => sim.close());
    const child = manage(crowdstrike({ clientId: sim.clientId, clientSecret: sim.clientSecret, baseUrl: sim.url, memberCid: 'child-cid-1' }));
    await expect(child.getToken()).resolves.toEqual(expect.any(String));
    const stranger = manage(crowdstrike({ clientId: sim.clientId, clientSecret: sim.clientSecret, baseUrl: sim.url, memberCid: 'other-cid' }));
    const outcome = await settle(stranger.getToken());
    const error = (outcome as { error: TokenError }).error;
    expect(error.code).toBe('forbidden');
    expect(error.providerMessage).toMatch(/customer ID=other-cid/);
  });

  test('a malformed client id is bad credentials (400)', async () => {
    const sim = await startSimulator({ dialect: 'crowdstrike' });
    track(() => sim.close());
    const outcome = await settle(manage(crowdstrike({ clientId: 'not/a/client/id', clientSecret: 'x-secret', baseUrl: sim.url })).getToken());
    expect((outcome as { error: TokenError }).error).toMatchObject({ code: 'invalid_credentials', status: 400 });
  });
});

describe('oauth2 client authentication', () => {
  test.each(['client_secret_basic', 'client_secret_post'] as const)('%s works, with scope and special characters', async (authMethod) => {
    const sim = await startSimulator({ dialect: 'oauth2', clientId: 'svc:reporting@example', clientSecret: 'p&ss=w:rd+/x' });
    track(() => sim.close());
    const tokens = manage(
      clientCredentials({
        tokenUrl: sim.tokenUrl,
        clientId: sim.clientId,
        clientSecret: sim.clientSecret,
        scope: 'read write',
        authMethod,
        revocationUrl: sim.revokeUrl,
      }),
    );
    const events = record(tokens);
    await tokens.getToken();
    expect(events.refresh[0]!.token.scope).toBe('read write');
    await tokens.dispose();
    expect(sim.stats.tokensRevoked).toBe(1);
  });

  test('without a revocationUrl nothing is revoked and no revoke event fires', async () => {
    const sim = await startSimulator({ dialect: 'oauth2' });
    track(() => sim.close());
    const tokens = manage(clientCredentials({ tokenUrl: sim.tokenUrl, clientId: sim.clientId, clientSecret: sim.clientSecret }));
    const events = record(tokens);
    await tokens.getToken();
    await tokens.dispose();
    expect(sim.stats.revokeCalls).toBe(0);
    expect(events.revoke).toHaveLength(0);
    expect(events.dispose).toBe(1);
  });
});

describe('bad options get a ConfigError that names the option and says what to fix', () => {
  const provider = clientCredentials({ tokenUrl: 'https://auth.example.com/token', clientId: 'id', clientSecret: 'secret' });
  test.each<[string, () => unknown, string, RegExp]>([
    ['no provider', () => new TokenManager({} as never), 'provider', /provider is required/],
    ['negative window', () => new TokenManager({ provider, refreshWindowMs: -1 }), 'refreshWindowMs', /non-negative number/],
    ['bad origin', () => new TokenManager({ provider, allowedOrigins: ['not a url'] }), 'allowedOrigins', /http\(s\) URLs/],
    ['bad retry', () => new TokenManager({ provider, retry: { retries: -2 } }), 'retry.retries', /non-negative/],
    ['empty secret', () => crowdstrike({ clientId: 'a', clientSecret: '' }), 'clientSecret', /clientSecret is required/],
    ['secret with a newline', () => crowdstrike({ clientId: 'a', clientSecret: 'abc\n' }), 'clientSecret', /leading or trailing whitespace/],
    ['unknown cloud', () => crowdstrike({ clientId: 'a', clientSecret: 'b', cloud: 'mars-1' }), 'cloud', /one of us-1/],
    ['bad cloudUrls key', () => crowdstrike({ clientId: 'a', clientSecret: 'b', cloudUrls: { moon: 'http://x' } as never }), 'cloudUrls', /unknown cloud/],
    ['onelogin without a host', () => onelogin({ clientId: 'a', clientSecret: 'b' }), 'subdomain', /give subdomain/],
    ['token URL not http', () => clientCredentials({ tokenUrl: 'ftp://x/token', clientId: 'a', clientSecret: 'b' }), 'tokenUrl', /http\(s\) URL/],
    [
      'credentials in a URL',
      () => clientCredentials({ tokenUrl: 'https://u:p@x/token', clientId: 'a', clientSecret: 'b' }),
      'tokenUrl',
      /must not contain credentials/,
    ],
    [
      'bad authMethod',
      () => clientCredentials({ tokenUrl: 'https://x/token', clientId: 'a', clientSecret: 'b', authMethod: 'jwt' as never }),
      'authMethod',
      /client_secret_basic/,
    ],
  ])('%s', (_name, make, option, says) => {
    let thrown: unknown;
    try {
      make();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect(thrown).toMatchObject({ code: 'invalid_config', option });
    expect((thrown as Error).message).toMatch(says);
  });
});
