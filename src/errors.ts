/** Why a token could not be had. */
export type TokenErrorCode =
  | 'invalid_credentials'
  | 'forbidden'
  | 'rate_limited'
  | 'server_error'
  | 'network_error'
  /** A token call (`attemptTimeoutMs`) or a whole refresh (`refreshTimeoutMs`) ran past its deadline. */
  | 'timeout'
  | 'invalid_response'
  | 'disposed'
  | 'aborted'
  /** The token store (e.g. Redis) failed: each process uses its own token until it answers. */
  | 'store_unavailable'
  /** Something threw that should not have: a bug (in a provider of your own, say), not the server's answer. */
  | 'internal';

const RETRYABLE: ReadonlySet<TokenErrorCode> = new Set(['rate_limited', 'server_error', 'network_error', 'timeout']);

export interface TokenErrorDetails {
  /** HTTP status of the token endpoint's answer, when there was one. */
  status?: number;
  /** The provider's own error message (already free of secrets). */
  providerMessage?: string;
  /** The RFC 6749 §5.2 `error` code the server sent (`invalid_client`, `invalid_scope`...). */
  oauthError?: string;
  /** How long the server asked us to wait before trying again, in ms. */
  retryAfterMs?: number;
  cause?: unknown;
}

/**
 * The one error tokenwarden rejects with. It never carries an HTTP client's error (those hold the
 * request body with the client secret): `cause` is a plain error rebuilt from safe fields.
 */
export class TokenError extends Error {
  override readonly name = 'TokenError';
  readonly code: TokenErrorCode;
  readonly status?: number;
  readonly providerMessage?: string;
  /** The RFC 6749 §5.2 `error` code the server sent, when it sent one (`invalid_scope`, ...). */
  readonly oauthError?: string;
  readonly retryAfterMs?: number;

  constructor(code: TokenErrorCode, message: string, details: TokenErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    if (details.status !== undefined) this.status = details.status;
    if (details.providerMessage !== undefined) this.providerMessage = details.providerMessage;
    if (details.oauthError !== undefined) this.oauthError = details.oauthError;
    if (details.retryAfterMs !== undefined) this.retryAfterMs = details.retryAfterMs;
  }

  /** Whether trying again later may succeed (network, timeout, 5xx, 429). */
  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }
}

/** Thrown synchronously for bad options: a programming error, not a token failure. */
export class ConfigError extends TypeError {
  override readonly name = 'ConfigError';
  readonly code = 'invalid_config' as const;
  /** The option that is wrong, e.g. `'clientSecret'`. */
  readonly option: string;

  constructor(option: string, message: string) {
    super(message);
    this.option = option;
  }
}

export function disposedError(): TokenError {
  return new TokenError('disposed', 'the token manager has been disposed');
}

export function abortedError(reason: unknown): TokenError {
  // The reason is the caller's own value; keep only its message so it cannot smuggle anything.
  const why = reason instanceof Error ? reason.message : undefined;
  return new TokenError('aborted', why ? `waiting for a token was aborted: ${why}` : 'waiting for a token was aborted');
}

/**
 * Whether `value` is a TokenError, also one made by another copy of this package (a bundle that
 * inlined it, a test runner's second realm), where `instanceof` says no.
 */
export function isTokenError(value: unknown): value is TokenError {
  if (value instanceof TokenError) return true;
  const candidate = value as { name?: unknown; code?: unknown } | null;
  return value instanceof Error && candidate?.name === 'TokenError' && typeof candidate.code === 'string';
}

/**
 * Anything thrown inside the manager, as a TokenError: a provider bug must not escape raw, nor
 * pass for the server's answer. Its name is kept (a type of error, never its message, which could
 * hold anything).
 */
export function asTokenError(error: unknown): TokenError {
  if (isTokenError(error)) return error;
  const name = error instanceof Error ? error.name.replace(/[^\w$.-]/g, '').slice(0, 40) || 'Error' : typeof error;
  return new TokenError('internal', `an unexpected ${name} was thrown while getting a token (a bug in a provider, or in tokenwarden)`);
}
