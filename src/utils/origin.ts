// Where a URL goes, decided as axios (and fetch) would: its origin, and whether it is absolute.

const SCHEME = /^[a-z][a-z\d+\-.]*:\/\//i;

/** axios's rule: `scheme://` or `//` starts an absolute URL. A path (`/x`) is settled by one look. */
export function isAbsolute(url: string): boolean {
  const first = url.charCodeAt(0);
  if (first === 47) return url.charCodeAt(1) === 47;
  return SCHEME.test(url);
}

/** `url` begins with `origin` and the authority ends there: it cannot go anywhere else. */
export function startsWithOrigin(url: string, origin: string): boolean {
  if (!url.startsWith(origin)) return false;
  const next = url.charCodeAt(origin.length);
  return Number.isNaN(next) || next === 47 || next === 63 || next === 35; // end, '/', '?', '#'
}

/** The origin a request to `url` goes to, parsed the way axios parses it; undefined unless http(s). */
export function originOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.origin : undefined;
  } catch {
    return undefined;
  }
}

/** `url` under `base`, joined as axios's combineURLs joins them (an empty url is the base as it is). */
export function joinUrl(base: string, url: string): string {
  return url ? `${base.replace(/\/?\/$/, '')}/${url.replace(/^\/+/, '')}` : base;
}
