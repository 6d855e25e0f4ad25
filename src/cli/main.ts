#!/usr/bin/env node
// The `tokenwarden` command: parses argv (after refusing secrets in it), runs one command, and
// turns what it threw into a message on stderr and an exit code from CLI_EXIT_CODES.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { isTokenError } from '../errors';
import { refuseSecretFlags } from './argv-guard';
import { check, type CheckFlags } from './check';
import { CLI_EXIT_CODES, exitCodeOf } from './exit-codes';
import { revoke } from './revoke';
import { credentialOptions, stdio, type Io, type RunFlags } from './session';
import { token } from './token';
import type { SimFlags } from './sim';

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Commander quotes what it did not understand: that could be a secret typed in the wrong place. */
function sanitized(message: string): string {
  return message
    .replace(/unknown option '([^'=]*)=[^']*'/g, "unknown option '$1'")
    .replace(/unknown command '[^']*'/g, 'unknown command (tokenwarden --help lists them)');
}

function program(io: Io): Command {
  const root = new Command('tokenwarden')
    .description('OAuth 2.0 client-credentials tokens on the command line. Credentials come from the environment or --env-file, never from flags.')
    .version(version())
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err, outputError: (message, write) => write(sanitized(message)) })
    .showHelpAfterError('(tokenwarden --help for usage)');
  credentialOptions(root.command('token').description('print the access token and a newline on stdout, nothing else')).action((flags: RunFlags) =>
    token(flags, io),
  );
  credentialOptions(root.command('check').description('validate the credentials: provider, cloud or base URL, expiry and scope; never the token'))
    .option('--json', 'one JSON object on stdout, for scripts')
    .option('--keep', 'do not revoke the token the check got')
    .action((flags: CheckFlags) => check(flags, io));
  credentialOptions(root.command('revoke').description('revoke the token read from stdin (tokenwarden token | tokenwarden revoke)')).action((flags: RunFlags) =>
    revoke(flags, io),
  );
  root
    .command('sim')
    .description('run the token server simulator until SIGINT or SIGTERM; prints its URL, made-up credentials and the env lines to use')
    .option('--dialect <name>', 'crowdstrike, onelogin or oauth2', 'oauth2')
    .option('--port <port>', 'port to listen on (0: a free one)', '0')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--client-id <id>', 'the client id to accept (default: a random one; the secret is always random)')
    .option('--token-lifetime <seconds>', "tokens' lifetime (default: the vendor's)")
    .option('--latency <ms>', 'round trip of the token and revoke endpoints')
    .option('--api-latency <ms>', 'delay of each API answer')
    .option('--fail-first <n>', 'the first n token calls fail with --fail-with')
    .option('--fail-rate <fraction>', 'this fraction of token calls fail with --fail-with (seeded)')
    .option('--fail-with <fault>', 'an HTTP status (429 carries the retry headers), reset, hang or drip', '500')
    .option('--seed <n>', 'seed of --fail-rate', '1')
    .option('--token-budget <perMinute>', "crowdstrike: token calls per minute before 429 (CrowdStrike's is about 300)")
    .option('--jwt', 'oauth2: issue JWT access tokens')
    .action(async (flags: SimFlags) => {
      // Lazy: only this command loads the simulator.
      const { sim } = await import('./sim.js');
      await sim(flags, io);
    });
  return root;
}

/** Runs `tokenwarden` with `args` (argv without node and the script); resolves to the exit code. */
export async function main(args: readonly string[] = process.argv.slice(2), io: Io = stdio): Promise<number> {
  try {
    refuseSecretFlags(args);
    await program(io).parseAsync([...args], { from: 'user' });
    return CLI_EXIT_CODES.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed its message (sanitized) already.
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? CLI_EXIT_CODES.ok : CLI_EXIT_CODES.usage;
    }
    const code = exitCodeOf(error);
    // TokenError and CliError messages are free of secrets by design; anything else is named by type only.
    const known = isTokenError(error) || (error instanceof Error && error.name === 'CliError') || (error instanceof Error && error.name === 'ConfigError');
    const label = (error as { code?: unknown }).code;
    io.err(
      known
        ? `tokenwarden: ${String(label)}: ${(error as Error).message}\n`
        : `tokenwarden: an unexpected ${error instanceof Error ? error.name : typeof error}\n`,
    );
    return code;
  }
}

if (require.main === module) {
  void main().then((code) => {
    process.exitCode = code;
  });
}
