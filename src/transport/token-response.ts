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

export interface ParseOptions {
  /** The client secret in its wire forms: redacted from the messages too (a number, a known word). */
  readonly secrets?: readonly string[];
  /** The token type asked for: `'DPoP'` when the request carried a DPoP proof. Default `'Bearer'`. */
  readonly tokenType?: 'Bearer' | 'DPoP';
}

/**
 * `response` as a token of the type asked for. Its lifetime is `expires_in`, or the access token's
 * own `exp` when it is a JWT (the earlier of the two when both are there), or `defaultLifetimeMs`;
 * `refresh_in` (Entra's hint) sets when it is refreshed.
 */
export function parseTokenResponse(response: RawResponse, what: string, defaultLifetimeMs: number, options: ParseOptions = {}): AccessToken {
  const secrets = options.secrets ?? [];
  const wanted = options.tokenType ?? 'Bearer';
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
  // No token_type at all is taken as the type asked for (some servers leave it out).
  if (tokenType !== undefined && (typeof tokenType !== 'string' || tokenType.toLowerCase() !== wanted.toLowerCase())) {
    const named =
      typeof tokenType === 'string' && KNOWN_TOKEN_TYPES.has(tokenType.toLowerCase()) ? JSON.stringify(tokenType.toLowerCase()) : describe(tokenType);
    if (wanted === 'DPoP' && named === '"bearer"') {
      throw fail('token_type is "bearer": the server ignored the DPoP proof (turn dpop off, or enable DPoP for this client at the server)');
    }
    throw fail(
      `token_type is ${named}; ${wanted === 'DPoP' ? 'a DPoP token was asked for' : 'only Bearer tokens are supported (DPoP tokens need the dpop option)'}`,
    );
  }

  const expiresIn = fields['expires_in'];
  const fromJwt = jwtLifetimeMs(accessToken, response.sentAt);
  // Without expires_in, an exp already past is all we know: the token is not used. Beside
  // expires_in (relative, so immune to clock skew) such an exp is taken for skew and ignored.
  if (fromJwt === EXPIRED && (expiresIn === undefined || expiresIn === null)) {
    throw fail("expires_in is missing and the access token's exp is past: check this host's clock against the server's");
  }
  const stated = fromJwt === EXPIRED ? undefined : fromJwt;
  const lifetime =
    expiresIn === undefined || expiresIn === null
      ? (stated ?? defaultLifetimeMs)
      : Math.min(lifetimeOf(expiresIn, defaultLifetimeMs, fail), stated ?? Infinity);
  const refreshIn = secondsOf(fields['refresh_in']);
  const scope = fields['scope'];
  return accessTokenOf({
    accessToken,
    tokenType: wanted,
    issuedAt: response.sentAt,
    expiresAt: response.sentAt + lifetime,
    ...(typeof scope === 'string' && { scope }),
    // A hint inside the token's life; anything else is ignored (it is only a hint).
    // Below a tenth of the life it is raised to that tenth: a tiny hint would refresh in a loop.
    ...(refreshIn !== undefined && refreshIn * 1000 < lifetime && { refreshAt: response.sentAt + Math.max(refreshIn * 1000, lifetime / 10) }),
  });
}

/** A positive number of seconds (or a plain decimal string of one), else undefined. */
function secondsOf(value: unknown): number | undefined {
  const seconds = typeof value === 'number' ? value : typeof value === 'string' && /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  return Number.isFinite(seconds) && seconds > 0 ? seconds : undefined;
}

/**
 * The life left in a JWT access token by its own `exp` (a number of seconds, believed up to the
 * 30-day cap like any lifetime; EXPIRED under a second), or undefined when it is not a JWT with one. The signature is not
 * checked: it is the API's to check, and a wrong `exp` only moves our refresh.
 */
const EXPIRED = 'expired';

function jwtLifetimeMs(accessToken: string, sentAt: number): number | typeof EXPIRED | undefined {
  const parts = accessToken.split('.');
  if (parts.length !== 3) return undefined;
  let exp: unknown;
  try {
    exp = (JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { exp?: unknown } | null)?.exp;
  } catch {
    return undefined;
  }
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return undefined;
  const ms = exp * 1000 - sentAt;
  return ms >= MIN_LIFETIME_MS ? Math.min(ms, MAX_LIFETIME_MS) : EXPIRED;
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
