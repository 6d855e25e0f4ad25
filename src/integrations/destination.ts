// Where a request goes, decided as the HTTP client resolves it, and so whether it may carry the
// bearer. Shared by every integration: the rule is the same for axios and for fetch.
import { isAbsolute, originOf, startsWithOrigin } from '../utils/origin';

/**
 * - `'api'`: a relative URL with no base of its own: it goes to the manager's `baseUrl`, with the
 *   bearer;
 * - `'allowed'`: to the origin of the API, of the client's own base URL, or of `allowedOrigins`;
 * - `'elsewhere'`: anywhere else: no bearer, and no wait for a token.
 */
export type Destination = 'api' | 'allowed' | 'elsewhere';

export interface Origins {
  /** The manager's `baseUrl` (relative URLs without a base go there). */
  readonly apiBase: string | undefined;
  /** The origins that may receive the bearer: the API's and `allowedOrigins`, as `new URL().origin` writes them. */
  readonly allowed: readonly string[];
  /** The client's own base URL's origin (an axios instance's `defaults.baseURL`). */
  readonly own?: string | undefined;
}

/**
 * The rule, as a pure function of the request's `url`, its `base` URL (axios's `baseURL`), whether
 * an absolute `url` is still put under `base` (axios's `allowAbsoluteUrls: false`), and the origins.
 * Positional, so that the request path allocates nothing.
 */
export function destinationOf(url: string, base: string | undefined, absoluteUnderBase: boolean, origins: Origins): Destination {
  if (isAbsolute(url) && !(absoluteUnderBase && base)) return absoluteDestination(url, origins);
  if (!base) return origins.apiBase === undefined ? 'elsewhere' : 'api';
  return mayReceive(originOf(base), origins) ? 'allowed' : 'elsewhere';
}

function absoluteDestination(url: string, origins: Origins): Destination {
  // Most absolute URLs start with an allowed origin as written: no URL parsing needed.
  for (const origin of origins.allowed) if (startsWithOrigin(url, origin)) return 'allowed';
  if (origins.own !== undefined && startsWithOrigin(url, origins.own)) return 'allowed';
  return mayReceive(originOf(url), origins) ? 'allowed' : 'elsewhere';
}

function mayReceive(origin: string | undefined, origins: Origins): boolean {
  return origin !== undefined && (origins.allowed.includes(origin) || origin === origins.own);
}

/**
 * `destinationOf` for one client, with the last base URL's answer kept while the base and the
 * origins (the same object while nothing in it changed) are: most clients send every request under
 * one base URL, and parsing it per request would cost more than the rest of the request path.
 */
export class Destinations {
  #base: string | undefined;
  #origins: Origins | undefined;
  #answer: Destination = 'elsewhere';

  of(url: string, base: string | undefined, absoluteUnderBase: boolean, origins: Origins): Destination {
    if (!base) return isAbsolute(url) ? absoluteDestination(url, origins) : origins.apiBase === undefined ? 'elsewhere' : 'api';
    if (!absoluteUnderBase && isAbsolute(url)) return absoluteDestination(url, origins);
    if (base !== this.#base || origins !== this.#origins) {
      this.#answer = destinationOf(url, base, absoluteUnderBase, origins);
      this.#base = base;
      this.#origins = origins;
    }
    return this.#answer;
  }
}

/**
 * The manager's `baseUrl` (it can change once, on region discovery), its origin and
 * `allowedOrigins`, for every client of one manager: one object while the base URL stays, so that
 * `Destinations` can keep their answers.
 */
export function apiOrigins(baseUrl: () => string | undefined, extraOrigins: readonly string[]): () => Origins {
  let origins: (Origins & { readonly for: string | undefined }) | undefined;
  return () => {
    const base = baseUrl();
    if (origins === undefined || base !== origins.for) {
      const origin = base === undefined ? undefined : originOf(base);
      origins = { for: base, apiBase: base, allowed: origin === undefined ? extraOrigins : [origin, ...extraOrigins] };
    }
    return origins;
  };
}
