// What every credential-using command shares: its flags, its output streams, a manager made for
// one short run (few retries: a person or a script is waiting).
import type { Command } from 'commander';
import { TokenManager } from '../manager';
import type { Chosen, CredentialFlags } from './credentials';
import { CliError } from './exit-codes';

export interface RunFlags extends CredentialFlags {
  retries: string;
  timeout: string;
}

/** Where a command writes: stdout for its result only, stderr for everything else. */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

export const stdio: Io = { out: (text) => void process.stdout.write(text), err: (text) => void process.stderr.write(text) };

/** The flags of `token`, `check` and `revoke`: nothing secret among them. */
export function credentialOptions(command: Command): Command {
  return command
    .option('--provider <name>', 'crowdstrike, onelogin or oauth2 (default: the one whose variables are set)')
    .option('--env-file <path>', 'read the variables from this file (dotenv syntax; must not be readable by others)')
    .option('--cloud <cloud>', 'CrowdStrike cloud: auto, us-1, us-2, us-3, eu-1, us-gov-1, us-gov-2 (FALCON_CLOUD)')
    .option('--member-cid <cid>', 'CrowdStrike MSSP child CID (FALCON_MEMBER_CID)')
    .option('--subdomain <name>', 'OneLogin subdomain (ONELOGIN_SUBDOMAIN)')
    .option('--base-url <url>', 'the API host (FALCON_BASE_URL, ONELOGIN_BASE_URL, OAUTH2_BASE_URL): a proxy, a simulator')
    .option('--token-url <url>', 'OAuth 2.0 token endpoint (OAUTH2_TOKEN_URL)')
    .option('--revocation-url <url>', 'OAuth 2.0 revocation endpoint (OAUTH2_REVOCATION_URL)')
    .option('--scope <scope>', 'OAuth 2.0 scope (OAUTH2_SCOPE)')
    .option('--retries <n>', 'retries of a failing token call', '2')
    .option('--timeout <seconds>', 'give up after this long', '30');
}

/** A number flag, or a usage error naming it. */
export function numberFlag(value: string, flag: string, { min = 0, integer = true }: { min?: number; integer?: boolean } = {}): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n)))
    throw new CliError('usage', `${flag} must be ${integer ? 'an integer' : 'a number'} of at least ${min}`);
  return n;
}

export function managerFor(chosen: Chosen, flags: RunFlags): TokenManager {
  const timeoutMs = numberFlag(flags.timeout, '--timeout', { min: 1, integer: false }) * 1000;
  return new TokenManager({
    provider: chosen.provider,
    retry: { retries: numberFlag(flags.retries, '--retries'), maxTimeout: 2_000 },
    refreshTimeoutMs: timeoutMs,
    attemptTimeoutMs: Math.min(10_000, timeoutMs),
  });
}
