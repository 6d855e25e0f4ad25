// The axios interceptors: put the bearer on requests bound for the API (and only those), and
// answer a 401 for our token with one shared refresh and one replay.
import type { AxiosError, AxiosInstance, AxiosResponse, InternalAxiosRequestConfig } from 'axios';
import { axiosCopyOf } from './axios-copies';
import { noop } from '../core/clock';
import { isAbsolute, originOf } from '../utils/origin';
import {
  NONCE_RETRIED,
  REDACTED_BEARER,
  REDACT_KEYS,
  REPLAYED,
  absoluteUrlOf,
  authorizationOf,
  hideBearer,
  nonceRetryOf,
  replayOf,
  urlOf,
  type Config,
} from './axios-config';
import { Destinations, type Destination, type Origins } from './destination';
import type { AbortSignalLike, BearerSource, HeldToken } from './source';
import { ConfigError } from '../errors';

/** The abort reason that marks a request's timeout running out while it waits for a token. */
const TIMED_OUT = Symbol('timed out');

/** The manager's base URL and the origins that may receive its bearer, shared by its attachments. */
type SharedOrigins = Omit<Origins, 'own'>;

/**
 * What a disposed manager leaves on an instance it was attached to: a request guard that rejects
 * requests bound for its API with `disposed` (instead of sending them without a token, or failing
 * a relative URL with `TypeError: Invalid URL`). A manager attached to the instance later takes
 * their place, and so does `detach()`.
 */
const guards = new WeakMap<AxiosInstance, Set<() => void>>();

/** The axios instances one manager is attached to. */
export class Attachments {
  readonly #source: BearerSource;
  /** The origins every attached instance shares. */
  readonly #origins: () => SharedOrigins;
  readonly #tokenHttp: AxiosInstance;
  readonly #attached = new Map<AxiosInstance, { detach: () => void; retire: () => void }>();

  constructor(source: BearerSource, origins: () => SharedOrigins, tokenHttp: AxiosInstance) {
    this.#source = source;
    this.#origins = origins;
    this.#tokenHttp = tokenHttp;
  }

  /** Instances attached now. */
  get size(): number {
    return this.#attached.size;
  }

  attach(instance: AxiosInstance): () => void {
    if (!instance?.interceptors) throw new ConfigError('instance', 'attach(): expected an axios instance');
    if (instance === this.#tokenHttp) {
      throw new ConfigError('instance', 'attach(): this is the instance the manager makes token calls with; its token calls must not be intercepted');
    }
    const existing = this.#attached.get(instance);
    if (existing !== undefined) return existing.detach;
    for (const remove of [...(guards.get(instance) ?? [])]) remove();
    const installed = attachInterceptors(instance, this.#source, this.#origins);
    let eject = installed.eject;
    const detach = () => {
      eject();
      eject = noop;
      if (this.#attached.get(instance)?.detach === detach) this.#attached.delete(instance);
    };
    const retire = () => {
      const unguard = installed.retire();
      const left = guards.get(instance) ?? new Set<() => void>();
      guards.set(instance, left);
      const remove = () => {
        unguard();
        left.delete(remove);
      };
      left.add(remove);
      eject = remove;
    };
    this.#attached.set(instance, { detach, retire });
    return detach;
  }

  /** Dispose: every instance keeps only a guard that rejects requests bound for the API. */
  retireAll(): void {
    for (const { retire } of this.#attached.values()) retire();
  }
}

/**
 * The interceptors, and how to take them off: `eject()` both, or `retire()` the response one only.
 * A retired attachment's request interceptor is the guard of a disposed manager: its source then
 * has no token and rejects every wait with `disposed`.
 */
function attachInterceptors(
  instance: AxiosInstance,
  source: BearerSource,
  sharedOrigins: () => SharedOrigins,
): { readonly eject: () => void; readonly retire: () => () => void } {
  // The token generation each request carried, under a key of this attachment's own: two managers
  // on one instance never take each other's 401s. A property, not a WeakMap entry: a WeakMap insert
  // per request doubled the interceptors' cost.
  const carried: unique symbol = Symbol('tokenwarden.carried');
  type Marked = { [carried]?: number };
  const destinations = new Destinations();
  // The origins object changes only when one of its parts does, so `destinations` can keep answers.
  let origins: Origins = { apiBase: undefined, allowed: [], own: undefined };
  let instanceBase: string | undefined;
  let shared: SharedOrigins | undefined;
  const originsNow = (): Origins => {
    const now = sharedOrigins();
    const base = instance.defaults.baseURL;
    if (now !== shared || base !== instanceBase) {
      shared = now;
      instanceBase = base;
      origins = { apiBase: now.apiBase, allowed: now.allowed, own: base ? originOf(base) : undefined };
    }
    return origins;
  };
  const destination = (config: Config): Destination => destinations.of(urlOf(config), config.baseURL, config.allowAbsoluteUrls === false, originsNow());

  const authorize = (config: Config, held: HeldToken): Config => {
    const to = destination(config);
    if (to === 'elsewhere') return config;
    if (to === 'api') config.baseURL = origins.apiBase;
    // No Authorization header of any casing is there (or only our redaction sentinel, under this
    // name): a plain assignment does what headers.set() would, without its normalising scan.
    (config.headers as unknown as Record<string, unknown>)['Authorization'] = held.header;
    (config as Marked)[carried] = held.gen;
    if (config.redact === undefined) config.redact = REDACT_KEYS;
    if (binding !== undefined) bind(config, to, held);
    return config;
  };

  // Sender-constrained tokens (DPoP, a client certificate): what each request that carries one
  // needs besides the header. Never set for plain bearer tokens, so their path stays as it was.
  const binding = source.binding;
  const bind = (config: Config, to: Destination, held: HeldToken) => {
    const url = absoluteUrlOf(config, to, origins.apiBase);
    if (url === undefined || binding === undefined) return;
    const bound = binding.forRequest((config.method ?? 'get').toUpperCase(), url, held.token);
    for (const [name, value] of Object.entries(bound.headers ?? {})) (config.headers as unknown as Record<string, unknown>)[name] = value;
    // axios drops Authorization on a redirect to another origin; the proof goes with it.
    if (bound.headers !== undefined) config.sensitiveHeaders = [...(config.sensitiveHeaders ?? []), ...Object.keys(bound.headers)];
    if (bound.httpsAgent !== undefined && config.httpsAgent !== bound.httpsAgent) {
      // A certificate-bound token is worthless without its certificate. An agent of the caller's
      // own is theirs to keep only when it presents a certificate itself.
      if (config.httpsAgent !== undefined && !presentsCertificate(config.httpsAgent)) {
        throw new ConfigError(
          'httpsAgent',
          "this request carries a certificate-bound token, but its httpsAgent presents no client certificate: remove the httpsAgent (the provider's tls options are used) or give it the certificate",
        );
      }
      config.httpsAgent ??= bound.httpsAgent;
    }
  };
  /** Whether the API asked for this request again with a new DPoP nonce (it has been learnt). */
  const askedAgain = (response: AxiosResponse | undefined): boolean => {
    if (binding === undefined || response === undefined) return false;
    const url = absoluteUrlOf(response.config as Config, 'allowed', origins.apiBase);
    const headers = response.headers as { get?: (name: string) => unknown } & Record<string, unknown>;
    const header = (name: string) => {
      const value = typeof headers.get === 'function' ? headers.get(name) : headers[name];
      return typeof value === 'string' ? value : undefined;
    };
    return url !== undefined && binding.answered(url, response.status, header);
  };

  /**
   * Synchronous, so that axios need not chain promises for its request interceptors. When no
   * token is usable, the wait moves into the adapter: the request waits for its token just before
   * it is sent.
   */
  const onRequest = (config: Config): Config => {
    const header = authorizationOf(config.headers);
    if (header !== undefined) {
      const headers = config.headers as unknown as Record<string, unknown>;
      // Our placeholder, carried over by hand from an error's config: it is never sent.
      if (headers[header] === REDACTED_BEARER) delete headers[header];
      else {
        // A header the caller set is theirs; a relative URL still goes to the API.
        if (!config.baseURL && source.baseUrl !== undefined && !isAbsolute(urlOf(config))) config.baseURL = source.baseUrl;
        return config;
      }
    }
    const held = source.forRequest();
    if (held !== undefined) return authorize(config, held);
    // Only wait for a token when this request would carry it.
    if (destination(config) === 'elsewhere') return config;
    const send = config.adapter ?? instance.defaults.adapter;
    config.adapter = async (ready: InternalAxiosRequestConfig) => {
      const fresh = await waitWithin(ready);
      ready.adapter = send; // a replay of this config sends directly
      // The copy of axios that made the request resolves its adapter (an ES module app's own).
      const copy = await axiosCopyOf(ready.headers);
      return copy.getAdapter(send)(authorize(ready as Config, fresh));
    };
    return config;
  };

  /** Wait for a token on the request's own terms: its signal, and its `timeout` (the wait counts). */
  const waitWithin = async (config: InternalAxiosRequestConfig): Promise<HeldToken> => {
    const timeout = config.timeout ?? 0;
    if (!(timeout > 0)) return source.wait(config.signal);
    const started = performance.now();
    const expired = new AbortController();
    // axios's own signal type has no `reason` (in some of its type builds); a real AbortSignal does.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
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
      // An error of the app's own axios, so that `instanceof AxiosError` holds in an ES module app.
      const { AxiosError } = await axiosCopyOf(config.headers);
      const code = config.transitional?.clarifyTimeoutError ? AxiosError.ETIMEDOUT : AxiosError.ECONNABORTED;
      throw new AxiosError(`timeout of ${timeout}ms exceeded while waiting for a token`, code, config);
    } finally {
      clearTimeout(timer);
      config.signal?.removeEventListener?.('abort', onCallerAbort);
    }
  };

  const onResponse = (response: AxiosResponse): AxiosResponse => {
    const gen = (response.config as Marked | undefined)?.[carried];
    if (gen !== undefined) {
      source.accepted(gen);
      askedAgain(response); // a nonce for the next request
    }
    return response;
  };

  const onError = (error: unknown): Promise<unknown> => {
    const config = (error as AxiosError | null)?.config as Config | undefined;
    const gen = (config as Marked | undefined)?.[carried];
    // Not a request that carried our token (a TokenError from the wait passes here untouched).
    if (config === undefined || gen === undefined) return Promise.reject(error);
    const response = (error as AxiosError).response;
    // RFC 9449 §9: the API wants its nonce in the proof: the same request once more, same token.
    // Asked again after that: the nonce is the trouble, not the token, which is kept.
    const nonce = askedAgain(response);
    if (nonce && !config[NONCE_RETRIED]) return instance.request(nonceRetryOf(config, carried));
    if (nonce || response?.status !== 401 || config[REPLAYED]) return Promise.reject(hideBearer(error as AxiosError, config));
    return source.unauthorized(gen, config.signal, true).then(() => instance.request(replayOf(config, carried)));
  };

  const requestId = instance.interceptors.request.use(onRequest, undefined, { synchronous: true });
  const responseId = instance.interceptors.response.use(onResponse, onError);
  const ejectRequest = () => instance.interceptors.request.eject(requestId);
  return {
    eject: () => {
      ejectRequest();
      instance.interceptors.response.eject(responseId);
    },
    retire: () => {
      instance.interceptors.response.eject(responseId);
      return ejectRequest;
    },
  };
}

/** Whether an https agent of the caller's own makes TLS connections with a client certificate. */
function presentsCertificate(agent: unknown): boolean {
  const options = (agent as { options?: Record<string, unknown> } | null)?.options;
  return options !== undefined && (options['cert'] !== undefined || options['pfx'] !== undefined || options['secureContext'] !== undefined);
}
