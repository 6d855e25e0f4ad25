// A fleet on one Redis: K managers, each with its own ioredis connection as a replica would have,
// all in this one process (so K = 1000 fits on the machine; a replica per process would spend the
// same Redis commands and token calls). Steady traffic through attached axios instances for a few
// token lifetimes, then a server-side revocation. Measured per K: token calls per lifetime, Redis
// commands per second, 401s for the revocation, failed requests, and the heap per manager.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import axios, { type AxiosInstance } from 'axios';
import Redis from 'ioredis';
import { TokenManager, crowdstrike } from '../../src';
import { redisStore } from '../../src/redis';
import { startSimulator } from '../../src/testing';
import { startRedis } from '../../scripts/fleet/redis-server';

export interface FleetFigureOptions {
  readonly sizes: readonly number[];
  readonly lifetimeSeconds: number;
  /** Token lifetimes of steady traffic measured per size. */
  readonly lifetimes: number;
  /** Each manager sends a request this often (staggered). */
  readonly requestEveryMs: number;
  /** How long after each revocation its 401s are counted. */
  readonly afterRevocationMs: number;
  /** Server-side revocations per size, one after another, */
  readonly revocations: number;
  /** this far apart: more than the 30 s a manager waits between acting on two notices. */
  readonly revocationEveryMs: number;
  /** The token endpoint's latency: while the lock holder waits for it, the others wait for the holder. */
  readonly tokenLatencyMs: number;
}

export interface FleetRow {
  readonly contender: string;
  readonly managers: number;
  readonly requests: number;
  readonly failed: number;
  /** Token calls over the steady part, per token lifetime. */
  readonly tokenCallsPerLifetime: number;
  /** Commands the managers sent Redis per second over the steady part (a script's EVALSHA is one). */
  readonly redisCommandsPerSecond: number;
  /** Commands Redis processed per second (the commands inside scripts count too; INFO's own do not). */
  readonly redisProcessedPerSecond: number;
  /** The API's 401s for one server-side revocation of the shared token: the median over the revocations. */
  readonly unauthorizedPerRevocation: number;
  /** The most any one revocation cost. */
  readonly unauthorizedMax: number;
  /** Of those, the ones whose request left after the first 401 had come back (the rest were in flight then): the median. */
  readonly unauthorizedSentAfterFirst: number;
  /** Token calls a revocation cost: the median. */
  readonly tokenCallsPerRevocation: number;
  /** Heap per manager with its attached instance and its Redis connection, KiB. */
  readonly heapPerManagerKiB: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A 401 an instance got: when its request left, and when the answer came. */
interface Refusal {
  readonly sentAt: number;
  readonly answeredAt: number;
}
const SENT_AT = Symbol('sentAt');

/** Interceptors of the bench's own, installed before the manager's: they see each request leave and each 401 before its replay. */
function timeRefusals(api: AxiosInstance, refusals: Refusal[]): void {
  api.interceptors.request.use((config) => Object.assign(config, { [SENT_AT]: performance.now() }), undefined, { synchronous: true });
  api.interceptors.response.use(undefined, (error: { config?: { [SENT_AT]?: number }; response?: { status: number } }) => {
    if (error.response?.status === 401) refusals.push({ sentAt: error.config?.[SENT_AT] ?? 0, answeredAt: performance.now() });
    throw error;
  });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The 401s for requests sent after the first 401 had come back: the ones a notice could have spared. */
function afterFirst(refusals: readonly Refusal[]): number {
  if (refusals.length === 0) return 0;
  const first = Math.min(...refusals.map((r) => r.answeredAt));
  return refusals.filter((r) => r.sentAt > first).length;
}

/** The heap after a full collection (gc made callable for this process only). */
function heapAfterGc(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed;
}

/** Commands sent by the managers' clients (a subscriber they duplicate counts too). */
let sent = 0;
function countCommands(client: Redis): void {
  const send = client.sendCommand.bind(client);
  client.sendCommand = (...args: Parameters<Redis['sendCommand']>) => {
    sent++;
    return send(...args);
  };
  const duplicate = client.duplicate.bind(client);
  client.duplicate = (...args: Parameters<Redis['duplicate']>) => {
    const copy = duplicate(...args);
    countCommands(copy);
    return copy;
  };
}

async function commandsProcessed(redis: Redis): Promise<number> {
  const info = await redis.info('stats');
  return Number(/total_commands_processed:(\d+)/.exec(info)?.[1] ?? NaN);
}

export async function fleetFigure(options: FleetFigureOptions): Promise<FleetRow[]> {
  const rows: FleetRow[] = [];
  for (const size of options.sizes) rows.push(await fleetOf(size, options));
  return rows;
}

async function fleetOf(size: number, options: FleetFigureOptions): Promise<FleetRow> {
  const redis = await startRedis();
  const sim = await startSimulator({ dialect: 'crowdstrike', tokenLifetimeSeconds: options.lifetimeSeconds, latencyMs: options.tokenLatencyMs });
  const probe = redis.client();
  const clients: Redis[] = [];
  const managers: TokenManager[] = [];
  let requests = 0;
  let failed = 0;
  let sending = true;
  const refusals: Refusal[] = [];
  try {
    const heapBefore = heapAfterGc();
    const instances: AxiosInstance[] = [];
    for (let i = 0; i < size; i++) {
      const client = new Redis({ port: redis.port, host: '127.0.0.1', lazyConnect: false, maxRetriesPerRequest: 1 });
      countCommands(client);
      clients.push(client);
      const tokens = new TokenManager({
        provider: crowdstrike({ clientId: sim.clientId, clientSecret: sim.clientSecret, baseUrl: sim.url }),
        store: redisStore({ client }),
        retry: { minTimeout: 100, maxTimeout: 1_000 },
      });
      managers.push(tokens);
      const api = axios.create();
      timeRefusals(api, refusals);
      tokens.attach(api);
      instances.push(api);
    }
    await Promise.all(clients.map((client) => (client.status === 'ready' ? Promise.resolve() : new Promise((resolve) => client.once('ready', resolve)))));
    const heapPerManagerKiB = (heapAfterGc() - heapBefore) / size / 1024;

    const send = (api: AxiosInstance) =>
      api.get('/devices/queries/devices/v1').then(
        () => void requests++,
        () => {
          requests++;
          failed++;
        },
      );
    const traffic = instances.map(async (api, i) => {
      await sleep((options.requestEveryMs * i) / size);
      while (sending) {
        await send(api);
        await sleep(options.requestEveryMs);
      }
    });
    // The first token, everyone's, and one request each: then the steady part starts.
    await Promise.all(managers.map((tokens) => tokens.getToken()));
    await sleep(options.requestEveryMs);
    const steadyMs = options.lifetimes * options.lifetimeSeconds * 1000;
    const calls0 = sim.stats.tokenCalls;
    const processed0 = await commandsProcessed(probe);
    const sent0 = sent;
    await sleep(steadyMs);
    const sentInSteady = sent - sent0;
    const processed1 = await commandsProcessed(probe);
    const steadyCalls = sim.stats.tokenCalls - calls0;

    const spent: { unauthorized: number; afterFirst: number; calls: number }[] = [];
    for (let n = 0; n < options.revocations; n++) {
      if (n > 0) await sleep(options.revocationEveryMs - options.afterRevocationMs);
      const unauthorized0 = sim.stats.api401;
      const calls0 = sim.stats.tokenCalls;
      refusals.length = 0;
      sim.revokeAll();
      await sleep(options.afterRevocationMs);
      spent.push({ unauthorized: sim.stats.api401 - unauthorized0, afterFirst: afterFirst(refusals), calls: sim.stats.tokenCalls - calls0 });
    }
    const row: FleetRow = {
      contender: 'tokenwarden',
      managers: size,
      requests,
      failed,
      tokenCallsPerLifetime: steadyCalls / options.lifetimes,
      redisCommandsPerSecond: sentInSteady / (steadyMs / 1000),
      // The second INFO is one more command than the first saw.
      redisProcessedPerSecond: (processed1 - processed0 - 1) / (steadyMs / 1000),
      unauthorizedPerRevocation: median(spent.map((s) => s.unauthorized)),
      unauthorizedMax: Math.max(...spent.map((s) => s.unauthorized)),
      unauthorizedSentAfterFirst: median(spent.map((s) => s.afterFirst)),
      tokenCallsPerRevocation: median(spent.map((s) => s.calls)),
      heapPerManagerKiB,
    };
    sending = false;
    await Promise.all(traffic);
    return { ...row, requests, failed };
  } finally {
    sending = false;
    await Promise.all(managers.map((tokens) => tokens.dispose({ revoke: false })));
    clients.forEach((client) => client.disconnect());
    probe.disconnect();
    await sim.close();
    await redis.stop();
  }
}
