// The `tokenwarden` command's exit codes: one per error code, so a script can tell a wrong secret
// from an unreachable server without parsing stderr. Stable: a number once given never moves.
import type { TokenErrorCode } from '../errors';

/** Why the command line itself refused to run: usage, credentials it could not find or choose, an env file others can read. */
export type CliErrorCode = 'usage' | 'invalid_config' | 'missing_credentials' | 'ambiguous_provider' | 'insecure_env_file';

/**
 * The exit code of `tokenwarden` for each outcome: `0` success, `1` anything unforeseen, `2` usage
 * errors (a bad flag, a secret on the command line, an empty stdin), then one per error code.
 */
export const CLI_EXIT_CODES: Readonly<Record<'ok' | CliErrorCode | TokenErrorCode, number>> = Object.freeze({
  ok: 0,
  usage: 2,
  invalid_config: 3,
  missing_credentials: 4,
  ambiguous_provider: 5,
  insecure_env_file: 6,
  invalid_credentials: 10,
  forbidden: 11,
  rate_limited: 12,
  server_error: 13,
  network_error: 14,
  timeout: 15,
  invalid_response: 16,
  disposed: 17,
  aborted: 18,
  store_unavailable: 19,
  internal: 20,
});

/** A refusal of the command line's own, with the code that picks its exit code. */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly code: CliErrorCode;

  constructor(code: CliErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** The exit code for whatever a command threw: its `code` when it is one of ours, else 1. */
export function exitCodeOf(error: unknown): number {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && Object.hasOwn(CLI_EXIT_CODES, code) && code !== 'ok' ? CLI_EXIT_CODES[code as keyof typeof CLI_EXIT_CODES] : 1;
}
