// A token endpoint's success body, checked field by field. Anything that is not a usable bearer
// token is `invalid_response` with a message naming the field; the body itself is never quoted
// (it holds the token).
import { inspect } from 'node:util';
import { TokenError } from './errors';
import { parseJson, type RawResponse } from './http';
import type { AccessToken } from './types';

export const DEFAULT_LIFETIME_MS = 10 * 60_000;
/** Shorter than this and a token would expire before a request could use it. */
export const MIN_LIFETIME_MS = 1_000;
/** Node refuses request headers over 16 KiB in total. */
const MAX_TOKEN_LENGTH = 8_192;
/** Visible ASCII only: anything else cannot go into an Authorization header. */
const HEADER_SAFE = /^[\x21-\x7e]+$/;

export function parseTokenResponse(response: RawResponse, what: string, defaultLifetimeMs: number): AccessToken {
  const fail = (problem: string) =>
    new TokenError('invalid_response', `${what} answered HTTP ${response.status} but ${problem}`, { status: response.status });

  const body = parseJson(response.body);
  if (body === undefined) {
    const type = response.headers['content-type'] ?? 'no content type';
    throw fail(`the body is not JSON (${type}, ${response.body.length} characters)`);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw fail(`the body is ${Array.isArray(body) ? 'an array' : `a JSON ${body === null ? 'null' : typeof body}`}, not an object`);
  }
  const fields = body as Record<string, unknown>;

  const accessToken = fields['access_token'];
  if (typeof accessToken !== 'string' || accessToken.length === 0) {
    throw fail(accessToken === undefined ? 'access_token is missing' : `access_token is ${describe(accessToken)}, not a non-empty string`);
  }
  if (accessToken.length > MAX_TOKEN_LENGTH) throw fail(`access_token is ${accessToken.length} characters long (limit ${MAX_TOKEN_LENGTH})`);
  if (!HEADER_SAFE.test(accessToken)) throw fail('access_token contains characters that cannot be sent in a header');

  const tokenType = fields['token_type'];
  if (tokenType !== undefined && (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer')) {
    throw fail(`token_type is ${describe(tokenType)}; only Bearer tokens are supported`);
  }

  const lifetimeMs = lifetimeOf(fields['expires_in'], defaultLifetimeMs, fail);
  const scope = fields['scope'];
  return accessTokenOf({
    accessToken,
    tokenType: 'Bearer',
    issuedAt: response.sentAt,
    expiresAt: response.sentAt + lifetimeMs,
    ...(typeof scope === 'string' && { scope }),
  });
}

function lifetimeOf(expiresIn: unknown, defaultLifetimeMs: number, fail: (problem: string) => TokenError): number {
  if (expiresIn === undefined || expiresIn === null) return defaultLifetimeMs;
  let seconds: number;
  if (typeof expiresIn === 'number') seconds = expiresIn;
  // Some servers send the number as a string ("3600"); accept plain decimal strings only.
  else if (typeof expiresIn === 'string' && /^\d+(\.\d+)?$/.test(expiresIn)) seconds = Number(expiresIn);
  else throw fail(`expires_in is ${describe(expiresIn)}, not a number of seconds`);
  const ms = seconds * 1000;
  if (!Number.isFinite(ms) || ms <= 0) throw fail(`expires_in is ${describe(expiresIn)}; it must be a positive number of seconds`);
  if (ms < MIN_LIFETIME_MS) throw fail(`expires_in is ${seconds} s, too short to use`);
  return ms;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value.length > 40 ? `a ${value.length}-character string` : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

const REDACTED_VIEW = Symbol.for('nodejs.util.inspect.custom');

/**
 * A frozen AccessToken whose `util.inspect` / `console.log` form hides the token itself, so logging
 * a refresh event does not leak it. The value is still a plain readable property.
 */
export function accessTokenOf(fields: AccessToken): AccessToken {
  const token = { ...fields };
  Object.defineProperty(token, REDACTED_VIEW, { enumerable: false, value: redactedView });
  return Object.freeze(token);
}

function redactedView(this: AccessToken, depth: number, options: object): string {
  const { accessToken: _hidden, ...rest } = this;
  return `AccessToken ${inspect({ accessToken: '[redacted]', ...rest }, { ...options, depth })}`;
}
