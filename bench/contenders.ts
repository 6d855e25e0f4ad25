// The token libraries users pick today, each wired the way its README shows, against a CrowdStrike
// simulator. Where a package is a whole SDK (falconjs), its documented policy is reproduced in a
// few lines and says so.
import { OAuth2Client, OAuth2Fetch } from '@badgateway/oauth2-client';
import axios, { type AxiosInstance } from 'axios';
import { createAuthRefresh } from 'axios-auth-refresh';
import oauth from 'axios-oauth-client';
import tokenProvider from 'axios-token-interceptor';
import { TokenManager, crowdstrike } from '../src';
import type { Simulator } from '../src/testing';

export interface Contender {
  readonly name: string;
  /** The axios instance requests go through, or undefined for a fetch-based client. */
  readonly axios: AxiosInstance | undefined;
  /** GET `path` on the API; resolves with the status (4xx/5xx included), rejects on other failures. */
  request(path: string): Promise<number>;
  close(): Promise<void>;
}

export type ContenderName =
  'floor' | 'tokenwarden' | 'tokenwarden (30 s window)' | 'axios-auth-refresh' | 'axios-token-interceptor' | 'oauth2-client (fetch)' | 'falconjs-style';

export interface ContenderOptions {
  /** A token for the floor's static header (it never refreshes). */
  staticToken?: string;
}

const statusOf = (promise: Promise<{ status: number }>): Promise<number> =>
  promise.then(
    (response) => response.status,
    (error: { response?: { status: number } }) => {
      if (error.response) return error.response.status;
      throw error;
    },
  );

/** A token call as the hand-written clients make it: CrowdStrike's form POST. */
export async function fetchToken(sim: Simulator, http: AxiosInstance = axios.create()): Promise<{ access_token: string; expires_in: number }> {
  const body = new URLSearchParams({ client_id: sim.clientId, client_secret: sim.clientSecret });
  return (await http.post(sim.tokenUrl, body.toString(), { headers: { 'Content-Type': 'application/x-www-form-urlencoded' } })).data;
}

function viaAxios(name: string, api: AxiosInstance, close: () => Promise<void> = async () => undefined): Contender {
  return { name, axios: api, request: (path) => statusOf(api.get(path)), close };
}

export const CONTENDERS: Record<ContenderName, (sim: Simulator, options?: ContenderOptions) => Contender> = {
  /** Bare axios, a static header set once: the physical limit. */
  floor: (sim, options = {}) =>
    viaAxios('floor', axios.create({ baseURL: sim.url, maxRedirects: 0, headers: { Authorization: `Bearer ${options.staticToken}` } })),

  tokenwarden: (sim) => tokenwarden('tokenwarden', sim, undefined),

  /** The refresh window cut to 30 s: fewer token calls a day for a thinner margin. */
  'tokenwarden (30 s window)': (sim) => tokenwarden('tokenwarden (30 s window)', sim, 30_000),

  /** Reactive: no token until a 401, then one refresh and a replay (its README's wiring). */
  'axios-auth-refresh': (sim) => {
    const api = axios.create({ baseURL: sim.url, maxRedirects: 0 });
    const http = axios.create();
    let token: string | undefined;
    createAuthRefresh(api, async (failedRequest: { response: { config: { headers: Record<string, string> } } }) => {
      token = (await fetchToken(sim, http)).access_token;
      failedRequest.response.config.headers['Authorization'] = `Bearer ${token}`;
    });
    api.interceptors.request.use((request) => {
      request.headers['Authorization'] = `Bearer ${token}`;
      return request;
    });
    return viaAxios('axios-auth-refresh', api);
  },

  /** axios-oauth-client v1 + axios-token-interceptor, as the former's README shows: cached for expires_in, no margin, a lock. */
  'axios-token-interceptor': (sim) => {
    const api = axios.create({ baseURL: sim.url, maxRedirects: 0 });
    const getClientCredentials = oauth.client(axios.create(), {
      url: sim.tokenUrl,
      grant_type: 'client_credentials',
      client_id: sim.clientId,
      client_secret: sim.clientSecret,
    });
    api.interceptors.request.use(oauth.interceptor(tokenProvider, getClientCredentials));
    return viaAxios('axios-token-interceptor', api);
  },

  /** @badgateway/oauth2-client's OAuth2Fetch with clientCredentials (fetch, not axios). */
  'oauth2-client (fetch)': (sim) => {
    const client = new OAuth2Client({
      server: sim.url,
      clientId: sim.clientId,
      clientSecret: sim.clientSecret,
      tokenEndpoint: '/oauth2/token',
      authenticationMethod: 'client_secret_post',
    });
    const wrapper = new OAuth2Fetch({ client, getNewToken: () => client.clientCredentials() });
    return {
      name: 'oauth2-client (fetch)',
      axios: undefined,
      request: async (path) => {
        const response = await wrapper.fetch(`${sim.url}${path}`);
        await response.arrayBuffer();
        return response.status;
      },
      close: async () => undefined,
    };
  },

  /**
   * crowdstrike-falcon (falconjs) is a whole SDK; its token policy reproduced: cache until exactly
   * expires_at (counted from when the answer arrived), single flight, no margin, no 401 handling.
   */
  'falconjs-style': (sim) => {
    const http = axios.create();
    let token: string | undefined;
    let expiresAt = 0;
    let inflight: Promise<string> | undefined;
    const getToken = (): Promise<string> => {
      if (token !== undefined && Date.now() < expiresAt) return Promise.resolve(token);
      inflight ??= fetchToken(sim, http)
        .then((answer) => {
          token = answer.access_token;
          expiresAt = Date.now() + answer.expires_in * 1000;
          return token;
        })
        .finally(() => (inflight = undefined));
      return inflight;
    };
    const api = axios.create({ baseURL: sim.url, maxRedirects: 0 });
    api.interceptors.request.use(async (config) => {
      config.headers.Authorization = `Bearer ${await getToken()}`;
      return config;
    });
    return viaAxios('falconjs-style', api);
  },
};

function tokenwarden(name: string, sim: Simulator, refreshWindowMs: number | undefined): Contender {
  const tokens = new TokenManager({
    provider: crowdstrike({ clientId: sim.clientId, clientSecret: sim.clientSecret, baseUrl: sim.url }),
    ...(refreshWindowMs !== undefined && { refreshWindowMs }),
  });
  const api = axios.create({ maxRedirects: 0 });
  tokens.attach(api);
  return viaAxios(name, api, () => tokens.dispose({ revoke: false }));
}
