// Which provider to build, from the environment (and `--env-file`): never from argv. Flags may set
// what is not secret (cloud, URLs, scope).
import { ConfigError } from '../errors';
import { crowdstrike } from '../providers/crowdstrike';
import { clientCredentials } from '../providers/client-credentials';
import { onelogin } from '../providers/onelogin';
import type { TokenProvider } from '../types';
import { readEnvFile } from './env-file';
import { CliError } from './exit-codes';

export const PROVIDERS = ['crowdstrike', 'onelogin', 'oauth2'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** The flags every credential-using command takes. */
export interface CredentialFlags {
  provider?: string;
  envFile?: string;
  cloud?: string;
  memberCid?: string;
  subdomain?: string;
  baseUrl?: string;
  tokenUrl?: string;
  revocationUrl?: string;
  scope?: string;
}

export interface Chosen {
  readonly name: ProviderName;
  readonly provider: TokenProvider;
  /** What `check` may print: never a secret. */
  readonly where: { cloud?: string; baseUrl?: string; tokenUrl?: string };
  /** Whether every client of these credentials gets the same token (OneLogin): revoking it ends theirs too. */
  readonly sharedToken: boolean;
}

/** The variables that show a provider is meant, and those it needs. */
const SIGNS: Record<ProviderName, { any: readonly string[]; required: readonly string[] }> = {
  crowdstrike: { any: ['FALCON_CLIENT_ID', 'FALCON_CLIENT_SECRET'], required: ['FALCON_CLIENT_ID', 'FALCON_CLIENT_SECRET'] },
  onelogin: { any: ['ONELOGIN_CLIENT_ID', 'ONELOGIN_CLIENT_SECRET'], required: ['ONELOGIN_CLIENT_ID', 'ONELOGIN_CLIENT_SECRET'] },
  oauth2: { any: ['OAUTH2_CLIENT_ID', 'OAUTH2_CLIENT_SECRET', 'OAUTH2_TOKEN_URL'], required: ['OAUTH2_CLIENT_ID', 'OAUTH2_CLIENT_SECRET'] },
};

/** The environment the credentials come from: the process's, with `--env-file`'s variables on top. */
export function environment(flags: CredentialFlags, warn: (message: string) => void): Record<string, string | undefined> {
  return flags.envFile === undefined ? { ...process.env } : { ...process.env, ...readEnvFile(flags.envFile, warn) };
}

export function chooseProvider(flags: CredentialFlags, env: Record<string, string | undefined>): Chosen {
  const set = (name: string) => env[name] !== undefined && env[name] !== '';
  const name = pickName(flags.provider, (candidate) => SIGNS[candidate].any.some(set));
  const missing = SIGNS[name].required.filter((variable) => !set(variable));
  if (name === 'oauth2' && !set('OAUTH2_TOKEN_URL') && flags.tokenUrl === undefined) missing.push('OAUTH2_TOKEN_URL (or --token-url)');
  if (name === 'onelogin' && !set('ONELOGIN_SUBDOMAIN') && !set('ONELOGIN_BASE_URL') && flags.subdomain === undefined && flags.baseUrl === undefined)
    missing.push('ONELOGIN_SUBDOMAIN (or --subdomain, --base-url)');
  if (missing.length > 0) throw new CliError('missing_credentials', `${name}: set ${missing.join(', ')} in the environment or the --env-file`);
  try {
    return build(name, flags, (variable) => (set(variable) ? env[variable] : undefined));
  } catch (error) {
    // The provider's message names its option, not where it came from; never its value.
    if (error instanceof ConfigError) throw new CliError('invalid_config', `${error.message} (from ${sourceOf(name, error.option)})`);
    throw error;
  }
}

function pickName(requested: string | undefined, present: (name: ProviderName) => boolean): ProviderName {
  if (requested !== undefined) {
    if ((PROVIDERS as readonly string[]).includes(requested)) return requested as ProviderName;
    throw new CliError('usage', `--provider must be one of ${PROVIDERS.join(', ')}`);
  }
  const found = PROVIDERS.filter(present);
  if (found.length === 1) return found[0]!;
  if (found.length === 0) {
    throw new CliError(
      'missing_credentials',
      'no credentials in the environment: set FALCON_CLIENT_ID and FALCON_CLIENT_SECRET, ONELOGIN_CLIENT_ID and ONELOGIN_CLIENT_SECRET, ' +
        'or OAUTH2_TOKEN_URL, OAUTH2_CLIENT_ID and OAUTH2_CLIENT_SECRET (or put them in a file for --env-file)',
    );
  }
  throw new CliError('ambiguous_provider', `credentials for ${found.join(' and ')} are set: choose one with --provider ${found.join('|')}`);
}

function build(name: ProviderName, flags: CredentialFlags, get: (variable: string) => string | undefined): Chosen {
  if (name === 'crowdstrike') {
    const baseUrl = flags.baseUrl ?? get('FALCON_BASE_URL');
    const cloud = flags.cloud ?? get('FALCON_CLOUD');
    const provider = crowdstrike({
      clientId: get('FALCON_CLIENT_ID')!,
      clientSecret: get('FALCON_CLIENT_SECRET')!,
      ...defined({ memberCid: flags.memberCid ?? get('FALCON_MEMBER_CID'), cloud, baseUrl }),
    });
    return { name, provider, where: defined({ cloud: baseUrl ? undefined : (cloud ?? 'auto') }), sharedToken: false };
  }
  if (name === 'onelogin') {
    const provider = onelogin({
      clientId: get('ONELOGIN_CLIENT_ID')!,
      clientSecret: get('ONELOGIN_CLIENT_SECRET')!,
      ...defined({ subdomain: flags.subdomain ?? get('ONELOGIN_SUBDOMAIN'), baseUrl: flags.baseUrl ?? get('ONELOGIN_BASE_URL') }),
    });
    return { name, provider, where: {}, sharedToken: true };
  }
  const tokenUrl = flags.tokenUrl ?? get('OAUTH2_TOKEN_URL')!;
  const provider = clientCredentials({
    tokenUrl,
    clientId: get('OAUTH2_CLIENT_ID')!,
    clientSecret: get('OAUTH2_CLIENT_SECRET')!,
    ...defined({
      scope: flags.scope ?? get('OAUTH2_SCOPE'),
      audience: get('OAUTH2_AUDIENCE'),
      revocationUrl: flags.revocationUrl ?? get('OAUTH2_REVOCATION_URL'),
      baseUrl: flags.baseUrl ?? get('OAUTH2_BASE_URL'),
    }),
  });
  return { name, provider, where: { tokenUrl: new URL(tokenUrl).origin + new URL(tokenUrl).pathname }, sharedToken: false };
}

/** Where an option of `name`'s provider came from, for an error message. */
function sourceOf(name: ProviderName, option: string): string {
  const prefix = { crowdstrike: 'FALCON', onelogin: 'ONELOGIN', oauth2: 'OAUTH2' }[name];
  const variable = `${prefix}_${option.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase()}`;
  const flag = `--${option.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
  return option === 'clientId' || option === 'clientSecret' ? variable : `${variable} or ${flag}`;
}

function defined<T extends Record<string, string | undefined>>(fields: T): { [K in keyof T]?: string } {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as { [K in keyof T]?: string };
}
