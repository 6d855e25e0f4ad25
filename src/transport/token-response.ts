// A token endpoint's success body, checked field by field. Anything that is not a usable bearer
// token is `invalid_response` with a message naming the field and describing what was wrong with
// it by type and length: a server's strings are never quoted (a hostile one puts the client
// secret there; an honest one, the token).
import { TokenError } from '../errors';
import { parseJson, type RawResponse } from './http';
import { redact } from './redact';
import { accessTokenOf } from '../core/token';
import type { AccessToken } from '../types';

export const DEFAULT_LIFETIME_MS = 10 * 60_000;
/** Shorter than this and a token would expire before a request could use it. */
export const MIN_LIFETIME_MS = 1_000;
/**
 * Longer lifetimes are cut to this. Real tokens live minutes to hours; refreshing a month-long one
 * monthly costs nothing, and a number past what a Date can hold would break every clock reading.
 */
export const MAX_LIFETIME_MS = 30 * 86_400_000;
/** token_type values worth naming in a message (they are ours to print, not the server's). */
const KNOWN_TOKEN_TYPES = new Set(['bearer', 'dpop', 'mac', 'pop', 'n_a', 'jwt', 'basic']);
/** Node refuses request headers over 16 KiB in total. */
const MAX_TOKEN_LENGTH = 8_192;
/** Visible ASCII only: anything else cannot go into an Authorization header. */
const HEADER_SAFE = /^[\x21-\x7e]+$/;

/**
 * `response` as a bearer token. `secrets` (the client secret in its wire forms) are redacted from
 * the messages too, in case a number or a known word is one of them.
 */
export function parseTokenResponse(response: RawResponse, what: string, defaultLifetimeMs: number, secrets: readonly string[] = []): AccessToken {
  const fail = (problem: string) =>
    new TokenError('invalid_response', redact(`${what} answered HTTP ${response.status} but ${problem}`, secrets), { status: response.status });

  const body = parseJson(response.body);
  if (body === undefined) {
    throw fail(`the body is not JSON (${contentTypeOf(response)}, ${response.body.length} characters)`);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw fail(`the body is ${Array.isArray(body) ? 'an array' : `a JSON ${body === null ? 'null' : typeof body}`}, not an object`);
  }
  const fields = body as Record<string, unknown>;

  const accessToken = fields['access_token'];
  if (typeof accessToken !== 'string' || accessToken.length === 0) {
    throw fail(
      accessToken === undefined
        ? 'access_token is missing'
        : accessToken === ''
          ? 'access_token is an empty string'
          : `access_token is ${describe(accessToken)}, not a string`,
    );
  }
  if (accessToken.length > MAX_TOKEN_LENGTH) throw fail(`access_token is ${accessToken.length} characters long (limit ${MAX_TOKEN_LENGTH})`);
  if (!HEADER_SAFE.test(accessToken)) throw fail('access_token contains characters that cannot be sent in a header');

  const tokenType = fields['token_type'];
  if (tokenType !== undefined && (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer')) {
    const named =
      typeof tokenType === 'string' && KNOWN_TOKEN_TYPES.has(tokenType.toLowerCase()) ? JSON.stringify(tokenType.toLowerCase()) : describe(tokenType);
    throw fail(`token_type is ${named}; only Bearer tokens are supported`);
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
  return Math.min(ms, MAX_LIFETIME_MS);
}

/** What a value is, never what it says: a string by its length only. */
function describe(value: unknown): string {
  if (typeof value === 'string') return value.length === 0 ? 'an empty string' : `a ${value.length}-character string`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

/** Media types worth naming: the header is the server's text, so only these are ever printed. */
const KNOWN_MEDIA_TYPES = new Set([
  'application/json',
  'text/html',
  'text/plain',
  'text/xml',
  'application/xml',
  'application/problem+json',
  'application/x-www-form-urlencoded',
  'application/octet-stream',
  'application/jwt',
  'text/javascript',
]);

/** The media type when it is a well-known one; never the raw header. */
function contentTypeOf(response: RawResponse): string {
  const header = response.headers['content-type'];
  if (header === undefined) return 'no content type';
  const media = header.split(';')[0]!.trim().toLowerCase();
  return KNOWN_MEDIA_TYPES.has(media) ? media : 'an unexpected content type';
}
