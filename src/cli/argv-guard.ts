// Secrets never come from argv: every local user can read a process's arguments (`ps`,
// /proc/<pid>/cmdline), and shells keep them in their history. A flag that looks like one is
// refused before the parser sees it, so that not even a parser's error message repeats it.
import { CliError } from './exit-codes';

/** The last word of a flag's name that makes it a secret: `--client-secret`, `--api_key`, `--token`. */
const SECRET_WORD = /(?:^|[-_])(?:secret|password|passwd|pwd|pass|token|key|apikey|credentials?|assertion|bearer|jwt)$/i;

/** The name of the first flag in `args` (before `--`) that would carry a secret, or undefined. */
export function secretFlagIn(args: readonly string[]): string | undefined {
  for (const arg of args) {
    if (arg === '--') return undefined;
    const match = /^--?([^=]+)/.exec(arg);
    if (match && SECRET_WORD.test(match[1]!)) return `--${match[1]!.replace(/^-/, '')}`;
  }
  return undefined;
}

/** Throws a usage error naming the flag (never its value) when `args` holds a secret flag. */
export function refuseSecretFlags(args: readonly string[]): void {
  const flag = secretFlagIn(args);
  if (flag === undefined) return;
  throw new CliError(
    'usage',
    `${flag} is refused: secrets on the command line are visible to every user of this machine in the process list (ps) and stay in your shell's history. ` +
      'Set it in the environment (e.g. FALCON_CLIENT_SECRET, ONELOGIN_CLIENT_SECRET, OAUTH2_CLIENT_SECRET) or in a file read with --env-file <path> (chmod 600); ' +
      'for revoke, pipe the token on stdin. Change the secret if it was a real one.',
  );
}
