// `tokenwarden revoke`: revokes the token piped on stdin (`tokenwarden token | tokenwarden revoke`).
// Never from argv (the process list), never echoed.
import { performance } from 'node:perf_hooks';
import { accessTokenOf } from '../core/token';
import { TokenError } from '../errors';
import { createTokenHttp } from '../transport/http';
import { DEFAULT_LIFETIME_MS } from '../transport/token-response';
import { chooseProvider, environment } from './credentials';
import { CliError } from './exit-codes';
import { numberFlag, type Io, type RunFlags } from './session';

/** A token is a few KiB at most; more on stdin is not one. */
const MAX_STDIN_BYTES = 64 * 1024;

export async function revoke(flags: RunFlags, io: Io, stdin: NodeJS.ReadStream = process.stdin): Promise<void> {
  const chosen = chooseProvider(flags, environment(flags, io.err));
  const { provider } = chosen;
  if (provider.revokeToken === undefined)
    throw new CliError('invalid_config', `${chosen.name}: no revocation endpoint: set OAUTH2_REVOCATION_URL (or --revocation-url)`);
  if (stdin.isTTY) throw new CliError('usage', 'revoke reads the token from stdin: pipe it in, e.g. tokenwarden token | tokenwarden revoke');
  const value = (await readAll(stdin)).trim();
  if (value === '') throw new CliError('usage', 'revoke: stdin was empty; pipe the token in');
  if (/\s/.test(value)) throw new CliError('usage', 'revoke: stdin holds more than one word; pipe in one token only');
  const timeoutMs = numberFlag(flags.timeout, '--timeout', { min: 1, integer: false }) * 1000;
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new TokenError('timeout', `${provider.name} revoke got no answer within ${timeoutMs} ms`)), timeoutMs);
  const now = Date.now();
  try {
    const clock = { now: Date.now, monotonic: () => performance.now() };
    const context = { http: createTokenHttp(), clock, defaultLifetimeMs: DEFAULT_LIFETIME_MS, timeoutMs, signal: deadline.signal };
    await provider.revokeToken(accessTokenOf({ accessToken: value, tokenType: 'Bearer', issuedAt: now, expiresAt: now + 60_000 }), context);
  } finally {
    clearTimeout(timer);
  }
  io.err('revoked\n');
}

async function readAll(stream: NodeJS.ReadStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_STDIN_BYTES) throw new CliError('usage', `revoke: stdin holds more than ${MAX_STDIN_BYTES / 1024} KiB; that is not a token`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
