// What the interceptors do to an axios request config: read its URL and Authorization header,
// hide our bearer (and DPoP proof) in the config of an error, make the replay of a refused request.
import type { AxiosError, AxiosHeaders, InternalAxiosRequestConfig } from 'axios';
import { isAbsolute, joinUrl } from '../utils/origin';
import type { Destination } from './destination';

/** A string key (not a symbol) so it survives axios's config merge on every axios 1.x. */
export const REPLAYED = 'tokenwardenReplayed';
/** Asks axios to hide the header when it serializes an error (`AxiosError.toJSON`). */
export const REDACT_KEYS = ['Authorization'];
/**
 * What the config of an error from an attached instance shows instead of our bearer. It is never
 * sent: a retry library that sends that config again gets the current token put back by the
 * request interceptor, or no Authorization header where the token may not go.
 */
export const REDACTED_BEARER = 'Bearer [redacted by tokenwarden]';
/** A string key: this request was sent again with a new DPoP nonce (once at most). */
export const NONCE_RETRIED = 'tokenwardenNonceRetried';

export type Config = InternalAxiosRequestConfig & { [REPLAYED]?: boolean; [NONCE_RETRIED]?: boolean };

/** The request's URL as text: axios also takes a URL object. */
export function urlOf(config: Config): string {
  const url: unknown = config.url;
  if (typeof url === 'string') return url;
  if (url instanceof URL) return url.href;
  // Anything else is turned into text as axios itself would, so the check sees what is sent.
  // eslint-disable-next-line @typescript-eslint/no-base-to-string
  return url == null ? '' : String(url);
}

/** The name of the Authorization header in any casing, without the allocations of AxiosHeaders.has/get. */
export function authorizationOf(headers: InternalAxiosRequestConfig['headers']): string | undefined {
  for (const name in headers) {
    if (name.length === 13 && name.toLowerCase() === 'authorization') {
      const value = (headers as unknown as Record<string, unknown>)[name];
      if (value !== undefined && value !== null) return name;
    }
  }
  return undefined;
}

/**
 * Errors get logged: keep our token out of what `util.inspect` and `JSON.stringify` show. The
 * config's header reads REDACTED_BEARER, as a non-enumerable property: axios copies headers by
 * their enumerable keys, so a config sent again (axios-retry) carries no Authorization header at
 * all, and the interceptor puts the current token on it, or nothing where the token may not go.
 * The raw request (whose header text holds the token) is made non-enumerable too: still there for
 * code that reads it, not printed.
 */
export function hideBearer(error: AxiosError, config: Config): AxiosError {
  Object.defineProperty(config.headers, 'Authorization', { value: REDACTED_BEARER, enumerable: false, writable: true, configurable: true });
  // A DPoP proof names the token (its hash) and can be replayed for a while: it is hidden the same way.
  if (Object.hasOwn(config.headers, 'DPoP'))
    Object.defineProperty(config.headers, 'DPoP', { value: '[redacted by tokenwarden]', enumerable: false, writable: true, configurable: true });
  for (const holder of [error, error.response]) {
    const descriptor = holder && Object.getOwnPropertyDescriptor(holder, 'request');
    if (descriptor?.configurable) Object.defineProperty(holder, 'request', { ...descriptor, enumerable: false });
  }
  return error;
}

/** The same request without our old bearer, marked so that a second 401 is returned as it is. */
export function replayOf(config: Config, mark: symbol): Config {
  // Built with the request's own copy of axios (an ES module app's, say).
  const headers = new (config.headers.constructor as typeof AxiosHeaders)(config.headers);
  headers.delete('Authorization');
  const replay: Config & Record<symbol, unknown> = { ...config, headers, [REPLAYED]: true };
  delete replay[mark]; // the replay is marked afresh when it is authorized
  return replay;
}

/** The same request again, for a new DPoP nonce: a fresh proof is put on by the interceptor. */
export function nonceRetryOf(config: Config, mark: symbol): Config {
  const headers = new (config.headers.constructor as typeof AxiosHeaders)(config.headers);
  headers.delete('Authorization');
  headers.delete('DPoP');
  const retry: Config & Record<symbol, unknown> = { ...config, headers, [NONCE_RETRIED]: true };
  delete retry[mark];
  return retry;
}

/** The absolute URL a request goes to (for a DPoP proof's `htu`), or undefined when it has none. */
export function absoluteUrlOf(config: Config, to: Destination, apiBase: string | undefined): string | undefined {
  const url = urlOf(config);
  const base = to === 'api' ? apiBase : config.baseURL;
  const full = base && (!isAbsolute(url) || config.allowAbsoluteUrls === false) ? joinUrl(base, url) : url;
  try {
    return new URL(full).href;
  } catch {
    return undefined;
  }
}
