// The server's retry hints, read from a response's headers: CrowdStrike, OneLogin and RFC 9110
// each say "wait" their own way.

/**
 * Longer hints are taken as nonsense and cut to this. An hour covers every real one (OneLogin's
 * X-RateLimit-Reset counts down an hourly window); a skewed server clock cannot inflate a hint,
 * since absolute times are read against the response's own Date header.
 */
export const MAX_RETRY_AFTER_MS = 60 * 60_000;

/**
 * How long the server asked us to wait, in ms, or undefined. Reads CrowdStrike's
 * `X-Ratelimit-Retryafter` (Unix seconds), `Retry-After` (seconds or an HTTP date) and
 * `X-RateLimit-Reset` (seconds remaining; Unix seconds when it is that large). Absolute times are
 * measured against the response's own `Date` header when it has one, so a server whose clock
 * disagrees with ours still gets the pause it meant.
 */
export function retryAfterMs(headers: Readonly<Record<string, string | undefined>>, nowMs: number): number | undefined {
  const serverNow = parseHttpDate(headers['date']) ?? nowMs;
  const waits: number[] = [];
  const unixSeconds = parseNumber(headers['x-ratelimit-retryafter']);
  if (unixSeconds !== undefined) waits.push(unixSeconds * 1000 - serverNow);
  const retryAfter = headers['retry-after'];
  if (retryAfter !== undefined) {
    const seconds = parseNumber(retryAfter);
    const date = seconds === undefined ? parseHttpDate(retryAfter) : undefined;
    if (seconds !== undefined) waits.push(seconds * 1000);
    else if (date !== undefined) waits.push(date - serverNow);
  }
  const reset = parseNumber(headers['x-ratelimit-reset']);
  if (reset !== undefined) waits.push(reset > 1e9 ? reset * 1000 - serverNow : reset * 1000);
  if (waits.length === 0) return undefined;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ...waits));
}

function parseNumber(value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*\d+(\.\d+)?\s*$/.test(value)) return undefined;
  return Number(value);
}

function parseHttpDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

/** `X-Ratelimit-Limit` and `X-Ratelimit-Remaining` (CrowdStrike and many others), when they are whole numbers. */
export function rateLimitOf(headers: Readonly<Record<string, string | undefined>>): { limit?: number; remaining?: number } | undefined {
  const whole = (text: string | undefined) => (text !== undefined && /^\d{1,9}$/.test(text.trim()) ? Number(text) : undefined);
  const limit = whole(headers['x-ratelimit-limit']);
  const remaining = whole(headers['x-ratelimit-remaining']);
  return limit === undefined && remaining === undefined ? undefined : { limit, remaining };
}
