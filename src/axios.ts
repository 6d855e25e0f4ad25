// The axios interceptors: put the bearer on requests bound for the API (and only those), and
// answer a 401 for our token with one shared refresh and one replay.
import axios, { AxiosError, AxiosHeaders, type AxiosInstance, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { ConfigError } from './errors';

/** A token as the request path needs it. */
export interface HeldToken {
  /** Increases each time the token changes: a 401 names the token it was for by this number. */
  readonly gen: number;
  /** `'Bearer <token>'`, built once per token. */
  readonly header: string;
}

/** What the interceptors need from the manager. */
export interface BearerSource {
  /** Where relative URLs go; may change once (CrowdStrike region discovery). */
  readonly baseUrl: string | undefined;
  /** The token if it can be sent right now; never waits. */
  usable(): HeldToken | undefined;
  /** Wait for a usable token. */
  wait(signal: AbortSignalLike | undefined): Promise<HeldToken>;
  /** The API answered 401 to token `gen`: the token to replay with. */
  rejected(gen: number, signal: AbortSignalLike | undefined): Promise<HeldToken>;
  /** The API accepted token `gen`. */
  accepted(gen: number): void;
}

/** axios's GenericAbortSignal: its `addEventListener` is optional. */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener?: (type: 'abort', listener: () => void, options?: { once?: boolean }) => void;
  removeEventListener?: (type: 'abort', listener: () => void) => void;
}

/** A string key (not a symbol) so it survives axios's config merge on every axios 1.x. */
const REPLAYED = 'tokenwardenReplayed';
/** Asks axios to hide the header when it serializes an error (`AxiosError.toJSON`). */
const REDACT_KEYS = ['Authorization'];
/**
 * What the config of an error from an attached instance shows instead of our bearer. A retry
 * library that sends that config again gets the current token put back by the request interceptor.
 */
export const REDACTED_BEARER = 'Bearer [redacted by tokenwarden]';
/** The abort reason that marks a request's timeout running out while it waits for a token. */
const TIMED_OUT = Symbol('timed out');
/** Relative URL and no baseURL: the request goes to the manager's `baseUrl`. */
const TO_API_BASE = 0;

type Config = InternalAxiosRequestConfig & { [REPLAYED]?: boolean };

/** The axios instances one manager is attached to. */
export class Attachments {
  readonly #source: BearerSource;
  readonly #extraOrigins: readonly string[];
  readonly #tokenHttp: AxiosInstance;
  readonly #detachers = new Map<AxiosInstance, () => void>();
  #originsFor: string | undefined;
  #origins: readonly string[] = [];

  constructor(source: BearerSource, extraOrigins: readonly string[], tokenHttp: AxiosInstance) {
    this.#source = source;
    this.#extraOrigins = extraOrigins;
    this.#tokenHttp = tokenHttp;
    this.#origins = extraOrigins;
  }

  attach(instance: AxiosInstance): () => void {
    if (!instance?.interceptors) throw new ConfigError('instance', 'attach(): expected an axios instance');
    if (instance === this.#tokenHttp) {
      throw new ConfigError('instance', 'attach(): this is the instance the manager makes token calls with; its token calls must not be intercepted');
    }
    const existing = this.#detachers.get(instance);
    if (existing !== undefined) return existing;
    const eject = attachInterceptors(instance, this.#source, () => this.#allowedOrigins());
    const detach = () => {
      if (this.#detachers.get(instance) !== detach) return;
      this.#detachers.delete(instance);
      eject();
    };
    this.#detachers.set(instance, detach);
    return detach;
  }

  detachAll(): void {
    for (const detach of [...this.#detachers.values()]) detach();
  }

  /** The origin of the manager's `baseUrl` (it can change once, on region discovery) and `allowedOrigins`. */
  #allowedOrigins(): readonly string[] {
    const base = this.#source.baseUrl;
    if (base !== this.#originsFor) {
      this.#originsFor = base;
      const origin = base === undefined ? undefined : originOf(base);
      this.#origins = origin === undefined ? this.#extraOrigins : [origin, ...this.#extraOrigins];
    }
    return this.#origins;
  }
}

function attachInterceptors(instance: AxiosInstance, source: BearerSource, origins: () => readonly string[]): () => void {
  // The token generation each request carried, under a key of this attachment's own: two managers
  // on one instance never take each other's 401s. A property, not a WeakMap entry: a WeakMap insert
  // per request doubled the interceptors' cost.
  const carried: unique symbol = Symbol('tokenwarden.carried');
  type Marked = { [carried]?: number };
  // The last baseURL decision, reused while the inputs are the same strings: most instances send
  // every request to one baseURL.
  let decidedBase: string | undefined;
  let decidedInstanceBase: string | undefined;
  let decidedOrigins: readonly string[] | undefined;
  let decision = false;
  let instanceBase: string | undefined;
  let instanceOrigin: string | undefined;

  const ownOrigin = (): string | undefined => {
    const base = instance.defaults.baseURL;
    if (base !== instanceBase) {
      instanceBase = base;
      instanceOrigin = base ? originOf(base) : undefined;
    }
    return instanceOrigin;
  };

  const mayReceive = (origin: string | undefined, allowed: readonly string[]): boolean =>
    origin !== undefined && (allowed.includes(origin) || origin === ownOrigin());

  /** Whether a request may carry the bearer, or TO_API_BASE when it goes to the manager's baseUrl. */
  const destination = (config: Config): boolean | typeof TO_API_BASE => {
    const url = config.url ?? '';
    const base = config.baseURL;
    const allowed = origins();
    if (isAbsolute(url) && !(config.allowAbsoluteUrls === false && base)) {
      for (const origin of allowed) if (startsWithOrigin(url, origin)) return true;
      const own = ownOrigin();
      if (own !== undefined && startsWithOrigin(url, own)) return true;
      return mayReceive(originOf(url), allowed);
    }
    if (!base) return source.baseUrl === undefined ? false : TO_API_BASE;
    if (base !== decidedBase || allowed !== decidedOrigins || instance.defaults.baseURL !== decidedInstanceBase) {
      decision = mayReceive(originOf(base), allowed);
      decidedBase = base;
      decidedOrigins = allowed;
      decidedInstanceBase = instance.defaults.baseURL;
    }
    return decision;
  };

  const authorize = (config: Config, held: HeldToken): Config => {
    const to = destination(config);
    if (to === false) return config;
    if (to === TO_API_BASE) config.baseURL = source.baseUrl;
    // No Authorization header of any casing is there (or only our redaction sentinel, under this
    // name): a plain assignment does what headers.set() would, without its normalising scan.
    (config.headers as unknown as Record<string, unknown>)['Authorization'] = held.header;
    (config as Marked)[carried] = held.gen;
    if (config.redact === undefined) config.redact = REDACT_KEYS;
    return config;
  };

  /**
   * Synchronous, so that axios need not chain promises for its request interceptors. When no
   * token is usable, the wait moves into the adapter: the request waits for its token just before
   * it is sent.
   */
  const onRequest = (config: Config): Config => {
    const existing = authorizationOf(config.headers);
    // A header the caller set is theirs; on our own replay the old bearer was removed.
    if (existing !== undefined && existing !== REDACTED_BEARER) return config;
    const held = source.usable();
    if (held !== undefined) return authorize(config, held);
    // Only wait for a token when this request would carry it.
    if (destination(config) === false) return config;
    const send = config.adapter ?? instance.defaults.adapter;
    config.adapter = async (ready: InternalAxiosRequestConfig) => {
      const fresh = await waitWithin(ready);
      ready.adapter = send; // a replay of this config sends directly
      return axios.getAdapter(send)(authorize(ready as Config, fresh));
    };
    return config;
  };

  /** Wait for a token on the request's own terms: its signal, and its `timeout` (the wait counts). */
  const waitWithin = async (config: InternalAxiosRequestConfig): Promise<HeldToken> => {
    const timeout = config.timeout ?? 0;
    if (!(timeout > 0)) return source.wait(config.signal);
    const started = performance.now();
    const expired = new AbortController();
    const onCallerAbort = () => expired.abort((config.signal as AbortSignalLike | undefined)?.reason);
    config.signal?.addEventListener?.('abort', onCallerAbort, { once: true });
    if (config.signal?.aborted) onCallerAbort();
    const timer = setTimeout(() => expired.abort(TIMED_OUT), timeout);
    try {
      const fresh = await source.wait(expired.signal);
      config.timeout = Math.max(1, Math.round(timeout - (performance.now() - started)));
      return fresh;
    } catch (error) {
      if (expired.signal.reason !== TIMED_OUT) throw error;
      const code = config.transitional?.clarifyTimeoutError ? AxiosError.ETIMEDOUT : AxiosError.ECONNABORTED;
      throw new AxiosError(`timeout of ${timeout}ms exceeded while waiting for a token`, code, config);
    } finally {
      clearTimeout(timer);
      config.signal?.removeEventListener?.('abort', onCallerAbort);
    }
  };

  const onResponse = (response: AxiosResponse): AxiosResponse => {
    const gen = (response.config as Marked | undefined)?.[carried];
    if (gen !== undefined) source.accepted(gen);
    return response;
  };

  const onError = (error: unknown): Promise<unknown> => {
    const config = (error as AxiosError | null)?.config as Config | undefined;
    const gen = (config as Marked | undefined)?.[carried];
    // Not a request that carried our token (a TokenError from the wait passes here untouched).
    if (config === undefined || gen === undefined) return Promise.reject(error);
    if ((error as AxiosError).response?.status !== 401 || config[REPLAYED]) return Promise.reject(hideBearer(error as AxiosError, config));
    return source.rejected(gen, config.signal).then(() => instance.request(replayOf(config, carried)));
  };

  const requestId = instance.interceptors.request.use(onRequest, undefined, { synchronous: true });
  const responseId = instance.interceptors.response.use(onResponse, onError);
  return () => {
    instance.interceptors.request.eject(requestId);
    instance.interceptors.response.eject(responseId);
  };
}

/** The Authorization header in any casing, without the allocations of AxiosHeaders.has/get. */
function authorizationOf(headers: InternalAxiosRequestConfig['headers']): unknown {
  for (const name in headers) {
    if (name.length === 13 && name.toLowerCase() === 'authorization') {
      const value = (headers as unknown as Record<string, unknown>)[name];
      if (value !== undefined && value !== null) return value;
    }
  }
  return undefined;
}

/**
 * Errors get logged: keep our token out of what `util.inspect` and `JSON.stringify` show. The
 * config's header becomes REDACTED_BEARER and the raw request (whose header text holds the token)
 * is made non-enumerable: still there for code that reads it, not printed.
 */
function hideBearer(error: AxiosError, config: Config): AxiosError {
  config.headers.set('Authorization', REDACTED_BEARER);
  for (const holder of [error, error.response]) {
    const descriptor = holder && Object.getOwnPropertyDescriptor(holder, 'request');
    if (descriptor?.configurable) Object.defineProperty(holder, 'request', { ...descriptor, enumerable: false });
  }
  return error;
}

/** The same request without our old bearer, marked so that a second 401 is returned as it is. */
function replayOf(config: Config, mark: symbol): Config {
  const headers = new AxiosHeaders(config.headers);
  headers.delete('Authorization');
  const replay: Config & Record<symbol, unknown> = { ...config, headers, [REPLAYED]: true };
  delete replay[mark]; // the replay is marked afresh when it is authorized
  return replay;
}

const SCHEME = /^[a-z][a-z\d+\-.]*:\/\//i;

/** axios's rule: `scheme://` or `//` starts an absolute URL. A path (`/x`) is settled by one look. */
function isAbsolute(url: string): boolean {
  const first = url.charCodeAt(0);
  if (first === 47) return url.charCodeAt(1) === 47;
  return SCHEME.test(url);
}

/** `url` begins with `origin` and the authority ends there: it cannot go anywhere else. */
function startsWithOrigin(url: string, origin: string): boolean {
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
