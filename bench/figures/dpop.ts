// What a DPoP-bound token (RFC 9449) costs each request: the request interceptor of an attached
// instance with a Bearer token and with `dpop` (a proof signed per request, `ath` included), both
// from `clientCredentials()` against the same simulator, timed in the same tinybench run as
// bench/figures/micro.ts times the Bearer path (batches, the cost of building the config taken off).
// The simulator issues Bearer tokens only and ignores the DPoP header, so the DPoP managers' token
// calls go through an axios instance (the `http` option) that relabels the answer's `token_type` as
// DPoP: the interceptors then hold exactly what a DPoP server would have handed them.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import axios, { AxiosHeaders, type AxiosInstance, type InternalAxiosRequestConfig } from 'axios';
import { Bench } from 'tinybench';
import { TokenManager, clientCredentials } from '../../src';
import { dpop, type DpopOptions } from '../../src/auth/dpop';
import { startSimulator } from '../../src/testing';

type Handler = { fulfilled: (value: unknown) => unknown };
export type DpopAlgorithm = 'ES256' | 'RS256' | 'EdDSA';

export interface DpopCostOptions {
  /** tinybench time budget per task, ms. */
  timeMs: number;
  /** tinybench minimum iterations per task (each iteration is a batch). */
  iterations: number;
}

export interface DpopAlgorithmRow {
  readonly algorithm: DpopAlgorithm;
  /** The key: `dpop: true` makes a P-256 one; the others are given as `dpop: { privateKey }`. */
  readonly key: string;
  /** The request interceptor per request, with this key's proofs. */
  readonly requestNs: number;
  /** `requestNs` over the Bearer request interceptor's, measured in the same run. */
  readonly ratioToBearer: number;
  /** One `proof(htm, htu, token)` on its own (sign, `jti`, `ath` of a token seen before), µs. */
  readonly proofUs: number;
}

export interface DpopCost {
  /** The request interceptor per request with a Bearer token (clientCredentials, no dpop). */
  readonly bearerRequestNs: number;
  /** Request + response interceptor per request, Bearer and `dpop: true` (the response side learns nonces). */
  readonly bearerCycleNs: number;
  readonly dpopCycleNs: number;
  readonly algorithms: readonly DpopAlgorithmRow[];
}

const BEARER_BATCH = 1_000;
/** Signing costs tens of µs to milliseconds (RSA): smaller batches, still far above the timer's resolution. */
const DPOP_BATCH = 20;
const PATH = '/v1/items';

const KEYS: readonly { algorithm: DpopAlgorithm; key: string; option: () => true | DpopOptions }[] = [
  { algorithm: 'ES256', key: 'P-256', option: () => true },
  { algorithm: 'RS256', key: 'RSA 2048', option: () => ({ privateKey: keyPair('rsa') }) },
  { algorithm: 'EdDSA', key: 'Ed25519', option: () => ({ privateKey: keyPair('ed25519') }) },
];

function keyPair(type: 'rsa' | 'ed25519'): KeyObject {
  return type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey : generateKeyPairSync('ed25519').privateKey;
}

/** Token calls whose answers read `token_type: DPoP` (the simulator's own token, relabelled). */
function relabellingHttp(): AxiosInstance {
  const http = axios.create();
  http.interceptors.response.use((response) => {
    const body = JSON.parse(response.data as string) as Record<string, unknown>;
    if (response.status === 200 && body['token_type'] === 'Bearer') response.data = JSON.stringify({ ...body, token_type: 'DPoP' });
    return response;
  });
  return http;
}

export async function dpopCost(options: DpopCostOptions): Promise<DpopCost> {
  const sim = await startSimulator({ dialect: 'oauth2', tokenLifetimeSeconds: 86_400 });
  const managers: TokenManager[] = [];
  const interceptorsOf = async (dpopOption: true | DpopOptions | undefined) => {
    const tokens = new TokenManager({
      provider: clientCredentials({
        tokenUrl: sim.tokenUrl,
        clientId: sim.clientId,
        clientSecret: sim.clientSecret,
        baseUrl: sim.url,
        ...(dpopOption !== undefined && { dpop: dpopOption }),
      }),
      ...(dpopOption !== undefined && { http: relabellingHttp() }),
    });
    managers.push(tokens);
    await tokens.getToken();
    const api = axios.create({ baseURL: sim.url });
    tokens.attach(api);
    const onRequest = (api.interceptors.request as unknown as { handlers: Handler[] }).handlers[0]!.fulfilled;
    const onResponse = (api.interceptors.response as unknown as { handlers: Handler[] }).handlers[0]!.fulfilled;
    // What is timed is what a request gets: the token, and a proof where one is due.
    const sent = onRequest({ url: PATH, baseURL: sim.url, method: 'get', headers: new AxiosHeaders() }) as InternalAxiosRequestConfig;
    const scheme = String(sent.headers['Authorization']).split(' ')[0];
    if (scheme !== (dpopOption === undefined ? 'Bearer' : 'DPoP') || (dpopOption !== undefined) !== (typeof sent.headers['DPoP'] === 'string'))
      throw new Error(`bench: the interceptor sent a ${scheme} token ${sent.headers['DPoP'] ? 'with' : 'without'} a DPoP proof`);
    return { onRequest, onResponse };
  };
  try {
    const config = (): InternalAxiosRequestConfig => ({
      url: PATH,
      baseURL: sim.url,
      method: 'get',
      headers: new AxiosHeaders({ Accept: 'application/json' }),
    });
    const requestOnly = (onRequest: Handler['fulfilled'], batch: number) => () => {
      for (let i = 0; i < batch; i++) onRequest(config());
    };
    const cycle =
      ({ onRequest, onResponse }: { onRequest: Handler['fulfilled']; onResponse: Handler['fulfilled'] }, batch: number) =>
      () => {
        for (let i = 0; i < batch; i++) {
          const sent = onRequest(config()) as InternalAxiosRequestConfig;
          onResponse({ status: 200, config: sent, headers: new AxiosHeaders() });
        }
      };
    const bearer = await interceptorsOf(undefined);
    const bench = new Bench({ time: options.timeMs, iterations: options.iterations, warmup: true, throws: true });
    bench
      .add('baseline: build the config', () => {
        for (let i = 0; i < BEARER_BATCH; i++) config();
      })
      .add('bearer request', requestOnly(bearer.onRequest, BEARER_BATCH))
      .add('bearer cycle', cycle(bearer, BEARER_BATCH));
    const url = `${sim.url}${PATH}`;
    const token = await managers[0]!.getToken();
    for (const { algorithm, option } of KEYS) {
      const chosen = option();
      const attached = await interceptorsOf(chosen);
      const proofs = dpop(chosen, 'bench');
      bench.add(`dpop ${algorithm} request`, requestOnly(attached.onRequest, DPOP_BATCH)).add(`dpop ${algorithm} proof`, () => {
        for (let i = 0; i < DPOP_BATCH; i++) proofs.proof('GET', url, token);
      });
      if (algorithm === 'ES256') bench.add('dpop ES256 cycle', cycle(attached, DPOP_BATCH));
    }
    await bench.run();
    const perCallNs = (name: string, batch: number) => ((bench.getTask(name)!.result as unknown as { latency: { p50: number } }).latency.p50 * 1e6) / batch;
    const baseline = perCallNs('baseline: build the config', BEARER_BATCH);
    const bearerRequestNs = perCallNs('bearer request', BEARER_BATCH) - baseline;
    return {
      bearerRequestNs,
      bearerCycleNs: perCallNs('bearer cycle', BEARER_BATCH) - baseline,
      dpopCycleNs: perCallNs('dpop ES256 cycle', DPOP_BATCH) - baseline,
      algorithms: KEYS.map(({ algorithm, key }) => {
        const requestNs = perCallNs(`dpop ${algorithm} request`, DPOP_BATCH) - baseline;
        return { algorithm, key, requestNs, ratioToBearer: requestNs / bearerRequestNs, proofUs: perCallNs(`dpop ${algorithm} proof`, DPOP_BATCH) / 1000 };
      }),
    };
  } finally {
    for (const tokens of managers) await tokens.dispose({ revoke: false });
    await sim.close();
  }
}
