// `tokenwarden check [--json]`: are the credentials good? Gets a token, says where from, until
// when and for what scope, never the token itself, and revokes it where that is safe: a check
// should leave no live token behind.
import type { AccessToken } from '../types';
import { chooseProvider, environment } from './credentials';
import { managerFor, type Io, type RunFlags } from './session';

export interface CheckFlags extends RunFlags {
  json?: boolean;
  keep?: boolean;
}

/** What `check --json` prints: one object, never a secret. */
export interface CheckReport {
  ok: true;
  provider: string;
  cloud?: string;
  baseUrl?: string;
  tokenUrl?: string;
  tokenType: string;
  scope?: string;
  expiresAt: string;
  expiresInSeconds: number;
  /** Whether the token was revoked after the check, and if not, why. */
  revoked: boolean;
  notRevoked?: string;
}

export async function check(flags: CheckFlags, io: Io): Promise<void> {
  const chosen = chooseProvider(flags, environment(flags, io.err));
  const manager = managerFor(chosen, flags);
  let token: AccessToken;
  try {
    token = await manager.refresh();
  } catch (error) {
    await manager.dispose({ revoke: false });
    throw error;
  }
  const why =
    chosen.provider.revokeToken === undefined
      ? 'the provider has no revocation endpoint (OAUTH2_REVOCATION_URL); it expires on its own'
      : chosen.sharedToken
        ? 'OneLogin hands every client of these credentials the same token: revoking it would end theirs'
        : flags.keep
          ? '--keep'
          : undefined;
  let revoked = false;
  let revokeFailure: string | undefined;
  manager.on('revoke', () => (revoked = true));
  manager.on('error', (error) => (revokeFailure = `revoking failed (${error.code}); it expires on its own`));
  const cloud = (chosen.provider as { cloud?: unknown }).cloud;
  const report: CheckReport = {
    ok: true,
    provider: chosen.name,
    ...chosen.where,
    ...(typeof cloud === 'string' && { cloud }),
    ...(manager.baseUrl !== undefined && { baseUrl: manager.baseUrl }),
    tokenType: token.tokenType,
    ...(token.scope !== undefined && { scope: token.scope }),
    expiresAt: new Date(token.expiresAt).toISOString(),
    expiresInSeconds: Math.round((token.expiresAt - Date.now()) / 1000),
    revoked: false,
  };
  await manager.dispose({ revoke: why === undefined });
  report.revoked = revoked;
  const notRevoked = why ?? revokeFailure;
  if (notRevoked !== undefined) report.notRevoked = notRevoked;
  io.out(flags.json ? `${JSON.stringify(report)}\n` : text(report));
}

function text(report: CheckReport): string {
  const rows: [string, string | undefined][] = [
    ['provider', report.provider],
    ['cloud', report.cloud],
    ['base URL', report.baseUrl],
    ['token URL', report.tokenUrl],
    ['token type', report.tokenType],
    ['scope', report.scope ?? '(none named)'],
    ['expires', `${report.expiresAt} (in ${report.expiresInSeconds} s)`],
    ['revoked', report.revoked ? 'yes' : `no: ${report.notRevoked ?? 'unknown'}`],
  ];
  return `credentials OK\n${rows
    .filter((row): row is [string, string] => row[1] !== undefined)
    .map(([name, value]) => `  ${name.padEnd(10)} ${value}\n`)
    .join('')}`;
}
