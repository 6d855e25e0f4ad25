// Nanosecond costs of tokenwarden's request path, measured with tinybench on the real interceptors
// of an attached instance (no network): what one request pays for the token. Each task times a
// batch of calls, so the timer's own cost and the VM's jitter are spread over the batch instead of
// landing on every sub-microsecond sample.
import axios, { AxiosHeaders, type InternalAxiosRequestConfig } from 'axios';
import { Bench } from 'tinybench';
import { TokenManager, crowdstrike } from '../../src';
import type { Simulator } from '../../src/testing';

type Handler = { fulfilled: (value: unknown) => unknown };

export interface MicroResult {
  /** `await tokens.getToken()` with a cached token. */
  getTokenNs: number;
  /** The request interceptor on a relative URL, then the response interceptor. */
  interceptorsNs: number;
  /** The same on an absolute URL to the API origin. */
  interceptorsAbsoluteNs: number;
}

const BATCH = 1_000;

export async function micro(sim: Simulator, timeMs = 500): Promise<MicroResult> {
  const tokens = new TokenManager({ provider: crowdstrike({ clientId: sim.clientId, clientSecret: sim.clientSecret, baseUrl: sim.url }) });
  await tokens.getToken();
  const api = axios.create({ baseURL: sim.url });
  tokens.attach(api);
  const onRequest = (api.interceptors.request as unknown as { handlers: Handler[] }).handlers[0]!.fulfilled;
  const onResponse = (api.interceptors.response as unknown as { handlers: Handler[] }).handlers[0]!.fulfilled;
  const config = (url: string): InternalAxiosRequestConfig => ({
    url,
    baseURL: sim.url,
    method: 'get',
    headers: new AxiosHeaders({ Accept: 'application/json' }),
  });
  const cycle = (url: string) => () => {
    for (let i = 0; i < BATCH; i++) {
      const sent = onRequest(config(url)) as InternalAxiosRequestConfig;
      onResponse({ status: 200, config: sent });
    }
  };
  const bench = new Bench({ time: timeMs, warmup: true });
  bench
    .add('getToken', async () => {
      for (let i = 0; i < BATCH; i++) await tokens.getToken();
    })
    .add('interceptors', cycle('/devices/queries/devices/v1'))
    .add('interceptors absolute', cycle(`${sim.url}/devices/queries/devices/v1`))
    .add('baseline: build the config', () => {
      for (let i = 0; i < BATCH; i++) config('/devices/queries/devices/v1');
    });
  await bench.run();
  await tokens.dispose({ revoke: false });
  const ns = (name: string) => ((bench.getTask(name)!.result as unknown as { latency: { p50: number } }).latency.p50 * 1e6) / BATCH;
  const baseline = ns('baseline: build the config');
  return {
    getTokenNs: ns('getToken'),
    interceptorsNs: ns('interceptors') - baseline,
    interceptorsAbsoluteNs: ns('interceptors absolute') - baseline,
  };
}
