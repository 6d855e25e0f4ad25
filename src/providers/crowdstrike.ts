// CrowdStrike Falcon: form POST /oauth2/token answered 201, 403 for bad credentials, region
// autodiscovery from X-Cs-Region, form revoke with Basic client authentication.
import { ConfigError } from '../errors';
import { basicCredential, secretForms } from '../transport/redact';
import { checkOptions } from '../utils/options-check';
import type { AccessToken, ProviderContext, TokenProvider } from '../types';
import { credential, form, httpUrl, optionalString, optionalUrl, pick, requestRevoke, requestToken, type EndpointDialect } from './shared';

export type CrowdStrikeCloud = 'us-1' | 'us-2' | 'us-3' | 'eu-1' | 'us-gov-1' | 'us-gov-2';

export const CROWDSTRIKE_CLOUDS: Readonly<Record<CrowdStrikeCloud, string>> = {
  'us-1': 'https://api.crowdstrike.com',
  'us-2': 'https://api.us-2.crowdstrike.com',
  'us-3': 'https://api.us-3.crowdstrike.com',
  'eu-1': 'https://api.eu-1.crowdstrike.com',
  'us-gov-1': 'https://api.laggar.gcw.crowdstrike.com',
  'us-gov-2': 'https://api.us-gov-2.crowdstrike.mil',
};

export interface CrowdStrikeOptions {
  clientId: string;
  clientSecret: string;
  /** MSSP: lock the token to this child CID. */
  memberCid?: string;
  /**
   * Default `'auto'`: ask us-1, then move to the cloud its `X-Cs-Region` names (gov clouds too).
   * Any spelling the SDKs use is accepted (`us-2`, `us2`, `US2`, `usgov1`, `gov1`).
   */
  cloud?: 'auto' | CrowdStrikeCloud | (string & Record<never, never>);
  /** A fixed API host (a proxy, a simulator). Overrides `cloud`; no autodiscovery. */
  baseUrl?: string;
  /** Replace the host of individual clouds (tests, egress proxies). Autodiscovery still applies. */
  cloudUrls?: Partial<Record<CrowdStrikeCloud, string>>;
}

export interface CrowdStrikeProvider extends TokenProvider {
  /** The cloud in use; undefined with a `baseUrl`, or before autodiscovery has run. */
  readonly cloud: CrowdStrikeCloud | undefined;
}

const SPELLINGS: Record<string, CrowdStrikeCloud> = {
  us1: 'us-1',
  us2: 'us-2',
  us3: 'us-3',
  eu1: 'eu-1',
  usgov1: 'us-gov-1',
  gov1: 'us-gov-1',
  usgov2: 'us-gov-2',
  gov2: 'us-gov-2',
};

/** `'us-2'`, `'us2'`, `'US2'`, `'usgov1'`, `'gov1'`... as a cloud name, or undefined. */
export function parseCloud(name: string | undefined): CrowdStrikeCloud | undefined {
  return name === undefined
    ? undefined
    : SPELLINGS[
        name
          .trim()
          .toLowerCase()
          .replace(/[-_\s]/g, '')
      ];
}

const dialect = (what: string): EndpointDialect => ({
  what: `crowdstrike ${what}`,
  message: (body) => pick(body, 'errors', 0, 'message'),
  // 403 is CrowdStrike's answer to a wrong id or secret; an IP allowlist or member CID refusal
  // says so in its message and is `forbidden` instead.
  badCredentials: (status, _body, message = '') =>
    (status === 403 && !/access denied|customer id/i.test(message)) || (status === 400 && /clientid/i.test(message)),
});
const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const TOKEN = dialect('token endpoint');
const REVOKE = dialect('revoke endpoint');

const OPTIONS = ['clientId', 'clientSecret', 'memberCid', 'cloud', 'baseUrl', 'cloudUrls'] as const;

export function crowdstrike(options: CrowdStrikeOptions): CrowdStrikeProvider {
  const who = 'crowdstrike()';
  checkOptions(options, OPTIONS, who);
  const clientId = credential(options?.clientId, 'clientId', who);
  const clientSecret = credential(options?.clientSecret, 'clientSecret', who);
  const memberCid = optionalString(options.memberCid, 'memberCid', who);
  const urls: Record<CrowdStrikeCloud, string> = { ...CROWDSTRIKE_CLOUDS };
  for (const [name, url] of Object.entries(options.cloudUrls ?? {})) {
    const cloud = parseCloud(name);
    if (!cloud) throw new ConfigError('cloudUrls', `${who}: cloudUrls has an unknown cloud ${JSON.stringify(name.slice(0, 30))}`);
    urls[cloud] = httpUrl(url, `cloudUrls.${name}`, who);
  }
  const requested = options.cloud ?? 'auto';
  const fixedCloud = requested === 'auto' ? undefined : parseCloud(String(requested));
  if (requested !== 'auto' && !fixedCloud) {
    throw new ConfigError(
      'cloud',
      `${who}: cloud must be 'auto' or one of ${Object.keys(CROWDSTRIKE_CLOUDS).join(', ')}; got ${JSON.stringify(String(requested).slice(0, 30))}`,
    );
  }
  const fixedUrl = optionalUrl(options.baseUrl, 'baseUrl', who);

  const basic = basicCredential(clientId, clientSecret);
  const secrets = secretForms(clientSecret, clientId);
  let cloud: CrowdStrikeCloud | undefined = fixedUrl ? undefined : fixedCloud;
  let baseUrl = fixedUrl ?? urls[fixedCloud ?? 'us-1'];
  let discovering = fixedUrl === undefined && fixedCloud === undefined;

  const tokenBody = form({ client_id: clientId, client_secret: clientSecret, member_cid: memberCid });
  const revokeHeaders = { ...FORM, Authorization: `basic ${basic}` };

  const tokenAt = (host: string, context: ProviderContext) =>
    requestToken(context, { url: `${host}/oauth2/token`, headers: FORM, body: tokenBody, secrets }, TOKEN);

  const revokeAt = (host: string, token: AccessToken, context: ProviderContext) =>
    requestRevoke(context, { url: `${host}/oauth2/revoke`, headers: revokeHeaders, body: form({ token: token.accessToken }), secrets }, token, REVOKE);

  return {
    name: 'crowdstrike',
    get baseUrl() {
      return baseUrl;
    },
    get cloud() {
      return cloud;
    },
    identity: JSON.stringify(['crowdstrike', clientId, memberCid ?? null, fixedUrl ?? fixedCloud ?? 'auto']),
    storeSecret: () => clientSecret,

    async fetchToken(context) {
      const { token, response } = await tokenAt(baseUrl, context);
      if (!discovering) return token;
      const home = parseCloud(response.headers['x-cs-region']);
      discovering = false;
      if (home === undefined || urls[home] === baseUrl) {
        cloud = home ?? 'us-1';
        return token;
      }
      // The credentials live in another cloud. Like gofalcon, hand the discovery token back to
      // the home cloud (best effort: it expires on its own) and take a token from there.
      cloud = home;
      baseUrl = urls[home];
      await revokeAt(baseUrl, token, context).catch(() => undefined);
      return (await tokenAt(baseUrl, context)).token;
    },

    revokeToken: (token, context) => revokeAt(baseUrl, token, context),

    // Replicas that share a token share the cloud it belongs to (found by discovery).
    shareState: () => (cloud === undefined ? undefined : { cloud }),

    // Another replica discovered the cloud and shared its token: take its cloud. A cloud we do not
    // know, or another than ours, refuses the token (a store's word never sends the bearer to a
    // host we do not know): it is fetched anew.
    adoptState(state) {
      if (state === undefined) return true;
      const named: unknown = typeof state === 'object' && state !== null && 'cloud' in state ? state.cloud : undefined;
      const shared = typeof named === 'string' && Object.hasOwn(CROWDSTRIKE_CLOUDS, named) ? (named as CrowdStrikeCloud) : undefined;
      if (shared === undefined) return false;
      if (discovering) {
        discovering = false;
        cloud = shared;
        baseUrl = urls[shared];
      }
      return cloud === shared;
    },
  };
}
