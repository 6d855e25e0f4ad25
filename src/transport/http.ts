// The token endpoint's transport. Axios errors carry the request body (client_secret) and headers
// (Basic credential), so none leaves this module: every failure becomes a TokenError built from
// safe fields only.
import axios, { type AxiosInstance } from 'axios';
import { TokenError, type TokenErrorCode } from '../errors';
import { originOf } from '../utils/origin';
import { retryAfterMs } from './retry-after';
import type { ProviderContext } from '../types';
import { redact } from './redact';

/** The default deadline of one token call, headers and body (`attemptTimeoutMs`). */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 10_000;
/**
 * The largest answer a token endpoint may give, after decompression: real ones are a few KiB, and
 * a body that inflates without end (a gzip bomb) is cut off here.
 */
export const MAX_RESPONSE_BYTES = 64 * 1024;

export function createTokenHttp(): AxiosInstance {
  return axios.create({ timeout: DEFAULT_ATTEMPT_TIMEOUT_MS });
}

export interface TokenCall {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Already encoded (form or JSON). */
  readonly body: string;
  /** Strings that must never appear in anything we surface (secret, Basic credential, token). */
  readonly secrets: readonly string[];
  /** The TLS agent (a client certificate, a private CA), when the call needs one. */
  readonly httpsAgent?: unknown;
  /** The token type asked for (`'DPoP'` when the call carries a proof). */
  readonly tokenType?: 'Bearer' | 'DPoP';
}

export interface RawResponse {
  readonly status: number;
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
  /** Wall-clock time the request was sent: token lifetimes count from here. */
  readonly sentAt: number;
}

export async function post(context: ProviderContext, call: TokenCall): Promise<RawResponse> {
  await context.turn?.();
  const sentAt = context.clock.now();
  try {
    const response = await context.http.request<string>({
      url: call.url,
      method: 'POST',
      headers: { Accept: 'application/json', ...call.headers },
      data: call.body,
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      // Following a redirect would re-send the secret to wherever the Location points.
      maxRedirects: 0,
      maxContentLength: MAX_RESPONSE_BYTES,
      // axios's own timer covers the wait for headers; the signal (the manager's deadline for the
      // whole exchange) also covers a body that trickles in.
      timeout: context.timeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS,
      ...(context.signal && { signal: context.signal }),
      ...(call.httpsAgent !== undefined && { httpsAgent: call.httpsAgent }),
    });
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(response.headers ?? {})) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value == null ? undefined : String(value);
    }
    const body = typeof response.data === 'string' ? response.data : '';
    return { status: response.status, headers, body, sentAt };
  } catch (error) {
    // Aborted by the manager: its reason says why (the attempt's deadline, dispose).
    if (context.signal?.aborted && context.signal.reason instanceof TokenError) throw context.signal.reason;
    throw networkError(error, call, context.timeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS);
  }
}

function networkError(error: unknown, call: TokenCall, timeoutMs: number): TokenError {
  const source = error as { code?: unknown; message?: unknown; cause?: { code?: unknown; syscall?: unknown } } | null;
  const code = typeof source?.code === 'string' ? source.code : typeof source?.cause?.code === 'string' ? source.cause.code : 'ERR_NETWORK';
  const message = typeof source?.message === 'string' ? source.message : '';
  const origin = originOf(call.url);
  if (code === 'ERR_BAD_RESPONSE' && message.includes('maxContentLength')) {
    return new TokenError(
      'invalid_response',
      `${origin} answered with more than ${MAX_RESPONSE_BYTES / 1024} KiB (after decompression); a token response is a few KiB`,
    );
  }
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT') {
    return new TokenError('timeout', `${origin} did not answer within ${timeoutMs} ms (attemptTimeoutMs)`, {
      cause: Object.assign(new Error('timeout'), { code }),
    });
  }
  const detail = redact(message || 'request failed', call.secrets);
  const cause = Object.assign(new Error(detail), { code });
  return new TokenError('network_error', `could not reach ${origin}: ${detail} (${code})`, { cause });
}

export interface FailureDetails {
  /** `'crowdstrike token endpoint'`, `'onelogin revoke endpoint'`, ... */
  readonly what: string;
  /** The provider's own error message, already extracted from its envelope. */
  readonly providerMessage: string | undefined;
  /** The answer means the client id or secret is wrong (not retried). */
  readonly badCredentials: boolean;
  /** The RFC 6749 §5.2 `error` code, when the server speaks OAuth 2.0. */
  readonly oauthError?: string | undefined;
  readonly secrets: readonly string[];
}

const HINTS: Partial<Record<TokenErrorCode, string>> = {
  invalid_credentials: 'check the client id and secret (or the key or certificate it authenticates with)',
  forbidden: 'the request was refused: check the API client (IP allowlist, tenant, scope) and the endpoint URL',
  rate_limited: 'the token endpoint is rate limiting this client',
  server_error: 'the token endpoint failed',
  invalid_response: 'the token endpoint answered with something that is not a token',
};

/** A non-success answer as a TokenError whose code says what to do about it. */
export function failure(response: RawResponse, details: FailureDetails, nowMs: number): TokenError {
  const { status } = response;
  const providerMessage = details.providerMessage === undefined ? undefined : redact(details.providerMessage, details.secrets);
  const oauthError = oauthErrorCode(details.oauthError, details.secrets);
  let code: TokenErrorCode;
  if (status === 429) code = 'rate_limited';
  else if (status >= 500 || status === 408) code = 'server_error';
  else if (details.badCredentials) code = 'invalid_credentials';
  else if (status >= 400) code = 'forbidden';
  else code = 'invalid_response';
  const wait = code === 'rate_limited' || code === 'server_error' ? retryAfterMs(response.headers, nowMs) : undefined;
  const said = providerMessage ? `: ${providerMessage}` : '';
  const waitText = wait === undefined ? '' : `; retry in ${Math.ceil(wait / 1000)} s`;
  const message = `${details.what} answered HTTP ${status}${said} (${HINTS[code]}${waitText})`;
  return new TokenError(code, message, {
    status,
    ...(providerMessage !== undefined && { providerMessage }),
    ...(oauthError !== undefined && { oauthError }),
    ...(wait !== undefined && { retryAfterMs: wait }),
  });
}

/** An RFC 6749 `error` value as the RFC allows it (printable ASCII but `"` and `\\`), short, and no secret. */
function oauthErrorCode(value: string | undefined, secrets: readonly string[]): string | undefined {
  if (value === undefined || !/^[\x20\x21\x23-\x5b\x5d-\x7e]{1,64}$/.test(value)) return undefined;
  return redact(value, secrets) === value ? value : undefined;
}

export function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}
