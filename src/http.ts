// The token endpoint's transport. Axios errors carry the request body (client_secret) and headers
// (Basic credential), so none leaves this module: every failure becomes a TokenError built from
// safe fields only.
import axios, { type AxiosInstance } from 'axios';
import { TokenError, type TokenErrorCode } from './errors';
import { originOf } from './axios';
import { retryAfterMs } from './retry';
import type { ProviderContext } from './types';

/** Token calls give up after this long unless the `http` instance sets its own timeout. */
export const TOKEN_CALL_TIMEOUT_MS = 15_000;

export function createTokenHttp(): AxiosInstance {
  return axios.create({ timeout: TOKEN_CALL_TIMEOUT_MS });
}

export interface TokenCall {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Already encoded (form or JSON). */
  readonly body: string;
  /** Strings that must never appear in anything we surface (secret, Basic credential, token). */
  readonly secrets: readonly string[];
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
      timeout: context.http.defaults.timeout || TOKEN_CALL_TIMEOUT_MS,
      ...(context.signal && { signal: context.signal }),
    });
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(response.headers ?? {})) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value == null ? undefined : String(value);
    }
    const body = typeof response.data === 'string' ? response.data : '';
    return { status: response.status, headers, body, sentAt };
  } catch (error) {
    throw networkError(error, call);
  }
}

function networkError(error: unknown, call: TokenCall): TokenError {
  const source = error as { code?: unknown; message?: unknown; cause?: { code?: unknown; syscall?: unknown } } | null;
  const code = typeof source?.code === 'string' ? source.code : typeof source?.cause?.code === 'string' ? source.cause.code : 'ERR_NETWORK';
  const detail = redact(typeof source?.message === 'string' ? source.message : 'request failed', call.secrets);
  const cause = Object.assign(new Error(detail), { code });
  return new TokenError('network_error', `could not reach ${originOf(call.url)}: ${detail} (${code})`, { cause });
}

export interface FailureDetails {
  /** `'crowdstrike token endpoint'`, `'onelogin revoke endpoint'`, ... */
  readonly what: string;
  /** The provider's own error message, already extracted from its envelope. */
  readonly providerMessage: string | undefined;
  /** The answer means the client id or secret is wrong (not retried). */
  readonly badCredentials: boolean;
  readonly secrets: readonly string[];
}

const HINTS: Partial<Record<TokenErrorCode, string>> = {
  invalid_credentials: 'check the client id and secret',
  forbidden: 'the request was refused: check the API client (IP allowlist, tenant, scope) and the endpoint URL',
  rate_limited: 'the token endpoint is rate limiting this client',
  server_error: 'the token endpoint failed',
  invalid_response: 'the token endpoint answered with something that is not a token',
};

/** A non-success answer as a TokenError whose code says what to do about it. */
export function failure(response: RawResponse, details: FailureDetails, nowMs: number): TokenError {
  const { status } = response;
  const providerMessage = details.providerMessage === undefined ? undefined : redact(details.providerMessage, details.secrets);
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
    ...(wait !== undefined && { retryAfterMs: wait }),
  });
}

/** Replace every occurrence of a secret, and cap the length of text from the network. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4 && out.includes(secret)) out = out.split(secret).join('[redacted]');
  }
  if (out.length > 500) out = `${out.slice(0, 500)}…`;
  // eslint-disable-next-line no-control-regex
  return out.replace(/[\u0000-\u001f\u007f]+/g, ' ');
}

/**
 * The forms a secret takes on the wire (as is, URL-encoded, form-encoded): a server that echoes
 * any of them back must not get it into our messages.
 */
export function secretForms(...secrets: string[]): string[] {
  return secrets.flatMap((secret) => [secret, encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString().slice(2)]);
}

export function basicCredential(clientId: string, clientSecret: string): string {
  return Buffer.from(`${clientId}:${clientSecret}`, 'utf8').toString('base64');
}

export function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}
