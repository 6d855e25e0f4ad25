// tokens.fetch: a fetch with the axios integration's guarantees. The bearer goes only where it may
// (the rule in destination.ts), a relative URL goes under the manager's baseUrl, a 401 for our
// token costs one shared refresh and one replay, and a body that cannot be sent twice is sent once.
import { noop } from '../core/clock';
import { ConfigError } from '../errors';
import { joinUrl } from '../utils/origin';
import { Destinations, type Destination, type Origins } from './destination';
import type { AbortSignalLike, BearerSource, HeldToken } from './source';
import type { FetchLike } from '../types';

/** The headers a fetch call takes: a Headers, a list of pairs, or a plain object. */
type HeaderList = NonNullable<RequestInit['headers']>;

/** The answers fetch follows, and how many of them in a row (its own limit). */
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 20;

/** `fetch` for one manager's token: `base()` is the fetch it sends with, looked up per request. */
export function bearerFetch(source: BearerSource, origins: () => Origins, base: () => FetchLike): FetchLike {
  const destinations = new Destinations();
  return (input, init) => {
    const request = isRequest(input) ? input : undefined;
    const url = request ? request.url : typeof input === 'string' ? input : (input as URL).href;
    const now = origins();
    const to = destinations.of(url, undefined, false, now);
    // Not for the API: sent as it is, without a token and without waiting for one.
    if (to === 'elsewhere') return base()(input, init);
    const target = to === 'api' ? joinUrl(now.apiBase!, url) : url;
    const given = init?.headers ?? request?.headers;
    // An Authorization header the caller set is theirs; a relative URL still goes to the API.
    if (hasAuthorization(given)) return base()(request ?? target, init);
    const exchange = new Exchange(source, base(), request, target, init, given, (next) => destinations.of(next, undefined, false, origins()));
    const held = source.forRequest();
    return held === undefined ? exchange.afterWait() : exchange.run(held);
  };
}

/** One request for the API, from its first try to its replay. */
class Exchange {
  readonly #resendable: boolean;
  readonly #signal: AbortSignalLike | undefined;
  readonly #input: () => string | Request;
  readonly #method: string;

  constructor(
    private readonly source: BearerSource,
    private readonly fetch: FetchLike,
    private readonly request: Request | undefined,
    private readonly target: string,
    private readonly init: RequestInit | undefined,
    private readonly given: HeaderList | undefined,
    private readonly destination: (url: string) => Destination,
  ) {
    this.#method = (init?.method ?? request?.method ?? 'GET').toUpperCase();
    const ownBody = init?.body !== undefined && init.body !== null;
    this.#resendable = ownBody ? sendsTwice(init.body) : true;
    // As fetch reads them: `signal: null` drops the Request's, `undefined` keeps it.
    this.#signal = init?.signal === undefined ? request?.signal : (init.signal ?? undefined);
    // A Request's body can be read once: each try sends a clone and leaves the original unread.
    this.#input = request !== undefined && request.body !== null && !ownBody ? () => request.clone() : () => request ?? target;
  }

  async afterWait(): Promise<Response> {
    return this.run(await waited(this.source.wait(this.#signal), this.#signal));
  }

  async run(held: HeldToken): Promise<Response> {
    const { source } = this;
    const [response, nonce] = await this.#attempt(held);
    // A success says the API took the token (as axios's success path does); a 5xx says nothing of it.
    if (response.ok) source.accepted(held.gen);
    if (nonce || response.status !== 401) return response;
    if (!this.#resendable) {
      // The refused token is replaced all the same, so the caller's next request carries its successor.
      source.unauthorized(held.gen, undefined, false).catch(noop);
      return response;
    }
    discard(response);
    const fresh = await waited(source.unauthorized(held.gen, this.#signal, true), this.#signal);
    const [replayed] = await this.#attempt(fresh);
    if (replayed.ok) source.accepted(fresh.gen);
    return replayed;
  }

  /**
   * One try with `held`, sent once more when the API asks for a new DPoP nonce (RFC 9449 §9).
   * True beside the answer when the nonce, not the token, is the trouble.
   */
  async #attempt(held: HeldToken): Promise<[Response, boolean]> {
    const first = await this.#send(held);
    if (!answered(this.source, first.url || this.target, first)) return [first, false];
    if (!this.#resendable) return [first, true];
    discard(first);
    const second = await this.#send(held);
    return [second, answered(this.source, second.url || this.target, second)];
  }

  #send(held: HeldToken): Promise<Response> {
    const init = { ...this.init, headers: this.#headers(held, this.target, this.#method) };
    // fetch follows a redirect with every header it was given but Authorization: the DPoP proof
    // too. With a binding, redirects are followed here instead, each hop with a proof of its own,
    // or, off the allowed origins, with neither token nor proof.
    if (this.source.binding === undefined || (this.init?.redirect ?? this.request?.redirect ?? 'follow') !== 'follow') return this.fetch(this.#input(), init);
    return this.fetch(this.#input(), { ...init, redirect: 'manual' }).then((response) => this.#follow(response, held, this.target, this.#method, 0));
  }

  /** One redirect after another, as fetch takes them (RFC 9110 §15.4, the Fetch standard's limit of 20). */
  async #follow(response: Response, held: HeldToken, from: string, method: string, hops: number): Promise<Response> {
    const location = REDIRECTS.has(response.status) ? response.headers.get('location') : null;
    if (location === null || hops >= MAX_REDIRECTS) return response;
    // A 303, and a 301 or 302 of a POST, go on as a GET without a body; the others keep both.
    const toGet = response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST');
    if (!toGet && !this.#resendable) return response; // its body is spent: the caller gets the redirect
    discard(response);
    const url = new URL(location, from).href;
    const next = toGet ? 'GET' : method;
    const headers = this.destination(url) === 'elsewhere' ? (this.given ?? {}) : this.#headers(held, url, next);
    const body = toGet ? null : this.#resentBody();
    const init: RequestInit = { ...this.init, method: next, headers, body, redirect: 'manual', ...(this.#signal && { signal: this.#signal as AbortSignal }) };
    if (body instanceof ReadableStream) Object.assign(init, { duplex: 'half' });
    return this.#follow(await this.fetch(url, init), held, url, next, hops + 1);
  }

  /** The body to send again on a redirect: the caller's own (one that can be), or a fresh copy of the Request's. */
  #resentBody(): RequestInit['body'] {
    if (this.init?.body !== undefined && this.init.body !== null) return this.init.body;
    return this.request?.body ? this.request.clone().body : null;
  }

  /** The caller's headers, our bearer, and what a sender-constrained token needs besides, for a request to `url`. */
  #headers(held: HeldToken, url: string, method: string): HeaderList {
    const { given, source } = this;
    const bound = source.binding?.forRequest(method, url, held.token);
    // A certificate-bound token is worthless without its certificate, and fetch takes no https.Agent.
    if (bound?.httpsAgent !== undefined && (this.init as { dispatcher?: unknown } | undefined)?.dispatcher === undefined) {
      throw new ConfigError(
        'dispatcher',
        'tokens.fetch(): this token is certificate-bound (mTLS), and fetch takes no https.Agent: use attach() with axios, or pass a `dispatcher` whose connections present the client certificate',
      );
    }
    // The common case, plain headers and a Bearer token: a plain object, as the caller would have written it.
    if (bound?.headers === undefined && (given === undefined || isRecord(given))) return { ...given, Authorization: held.header };
    const headers = new Headers(given);
    headers.set('authorization', held.header);
    for (const [name, value] of Object.entries(bound?.headers ?? {})) headers.set(name, value);
    return headers;
  }
}

/** Whether the caller set an Authorization header, in any casing, in any form fetch takes. */
function hasAuthorization(given: HeaderList | undefined): boolean {
  if (given === undefined || given === null) return false;
  if (Array.isArray(given)) return given.some((pair) => isAuthorization(pair[0]));
  if (!isRecord(given)) return (given as Headers).has('authorization');
  for (const name in given) if (isAuthorization(name)) return true;
  return false;
}

const isAuthorization = (name: string | undefined) => name !== undefined && name.length === 13 && name.toLowerCase() === 'authorization';

/** A plain `{ name: value }` object (not a Headers, of this realm or another, nor a list of pairs). */
function isRecord(given: HeaderList): given is Record<string, string> {
  return !Array.isArray(given) && typeof (given as Headers).has !== 'function';
}

/** Tell the binding of an answer to a request that carried the token; true when it asks for that request again. */
function answered(source: BearerSource, url: string, response: Response): boolean {
  const binding = source.binding;
  return binding !== undefined && binding.answered(url, response.status, (name) => response.headers.get(name) ?? undefined);
}

/** Let go of an answer that will not be read (its connection goes back to the pool). */
function discard(response: Response): void {
  response.body?.cancel().catch(noop);
}

/** Wait for a token; an abort of the caller's own rejects with its reason, as fetch does. */
async function waited(token: Promise<HeldToken>, signal: AbortSignalLike | undefined): Promise<HeldToken> {
  try {
    return await token;
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw error;
  }
}

/** A fetch `Request` (of this realm or another: a test runner's, a polyfill's). */
function isRequest(input: unknown): input is Request {
  return typeof input === 'object' && input !== null && !(input instanceof URL) && typeof (input as Request).clone === 'function' && 'url' in input;
}

/** Bodies fetch can send again as they are; a stream (or an async iterable) is read as it is sent. */
function sendsTwice(body: RequestInit['body'] | undefined): boolean {
  if (body === undefined || body === null || typeof body === 'string') return true;
  return body instanceof URLSearchParams || body instanceof Blob || body instanceof ArrayBuffer || ArrayBuffer.isView(body) || body instanceof FormData;
}
