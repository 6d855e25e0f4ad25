// Figure 6: a CrowdStrike MSSP (Flight Control) parent with hundreds of children, one source IP.
// The simulator allows `serverBudgetPerMinute` token calls a minute per IP (a sliding 60 s window,
// 429 with X-Ratelimit-Retryafter past it). Every child is asked for at once at start-up, then each
// child makes one API request every `requestEverySeconds` (each child at its own offset) for
// `hours` of simulated time. Three ways to hold a token per child:
//   - independent managers: a TokenManager per child, each attached to its own axios instance;
//   - falconpy-style lazy: a map of tokens with their expiry, a token fetched in the request path
//     when missing or within 20 s of expiry (falconpy's renew window), a 429 retried after its hint;
//   - TokenPool: a manager per child made on first use, all token calls under the pool's budget,
//     with its defaults.
// Each runs against its own simulator (the budget is per source IP, and all three come from
// 127.0.0.1), in the same fake time. Time moves from timer to timer (every timer fires at its own
// millisecond, with real loopback I/O run to quiet in between), so request latencies are exact
// simulated times: 50 ms for a request that did not wait, 250 ms or more for one that waited for a
// 200 ms token call.
import * as FakeTimers from '@sinonjs/fake-timers';
import axios from 'axios';
import { DEFAULT_POOL_BUDGET, TokenManager, TokenPool, crowdstrike, isTokenError, tokenBudget } from '../../src';
import { startSimulator, type Simulator } from '../../src/testing';
import { DAY_START, seeded } from '../../scripts/chaos/harness';

export const MSSP_CONTENDERS = ['independent managers', 'falconpy-style lazy', 'TokenPool'] as const;
export type MsspContenderName = (typeof MSSP_CONTENDERS)[number];

const TOKEN_LATENCY_MS = 200;
const API_LATENCY_MS = 50;
/** A request slower than this waited for a token call (a request that did not takes API_LATENCY_MS). */
export const STALL_MS = 100;
/** falconpy renews a token this long before it expires (`token_renew_window`, default 20 s). */
const FALCONPY_RENEW_WINDOW_MS = 20_000;
/** The lazy client retries a 429 after its hint, at most this many times a token. */
const LAZY_429_RETRIES = 5;
const PATH = '/devices/queries/devices/v1';

export interface MsspOptions {
  /** Child CIDs of the parent (each needs its own token). */
  readonly children: number;
  readonly hours: number;
  /** Each child makes one API request this often, at an offset of its own. */
  readonly requestEverySeconds: number;
  /** The simulator's token-endpoint budget per source IP (CrowdStrike documents about 300). */
  readonly serverBudgetPerMinute: number;
  /** The pool's budget; left out: its default (250 a minute, 8 at once). */
  readonly poolBudgetPerMinute?: number;
  readonly lifetimeSeconds: number;
}

export interface MsspRow {
  readonly contender: MsspContenderName;
  readonly children: number;
  readonly simulatedHours: number;
  readonly requestEverySeconds: number;
  readonly serverBudgetPerMinute: number;
  /** The pool's budget (undefined for the contenders without one). */
  readonly budgetPerMinute: number | undefined;
  /** Every API request: the start-up one per child and the day's. */
  readonly requests: number;
  /** Token calls that reached the server (429s included). */
  readonly tokenCalls: number;
  /** Token calls the server's budget answered 429. */
  readonly tokenRateLimited: number;
  /** The most token calls that arrived in any 60 s. */
  readonly peakTokenCallsPerMinute: number;
  /** Simulated ms from start-up until the last child had its first token; null if some child never got one. */
  readonly allFirstTokensMs: number | null;
  readonly childrenWithoutToken: number;
  /** The day's requests that started before their child had its first token (start-up, not counted as stalls). */
  readonly waitedForFirstToken: number;
  /** Requests started once their child had a token that took longer than STALL_MS (they waited for a token call). */
  readonly stalled: number;
  /** The slowest request started once its child had a token, in simulated ms. */
  readonly maxLatencyAfterFirstTokenMs: number;
  /** Requests that did not end in a 200. */
  readonly failed: number;
  /** Of those, the start-up requests (one per child at once). */
  readonly failedAtStartup: number;
  /** Failures by TokenError code or HTTP status. */
  readonly failedBy: Record<string, number>;
  readonly api401: number;
  /** Most 401s in any minute (CrowdStrike allows 15 per IP). */
  readonly peak401PerMinute: number;
  readonly expiredTokenSends: number;
  readonly apiForbidden: number;
}

/** One way to hold a token per child. `firstTokenAt[i]`: when child i's client first had a token. */
interface Client {
  readonly firstTokenAt: (number | undefined)[];
  /** GET the API for child i: the status, or the failure's code. */
  request(child: number): Promise<number | string>;
  close(): Promise<void>;
}

const cidOf = (i: number) => (0xc1d00000 + i).toString(16).toUpperCase().padStart(32, '0');

const outcome = (promise: Promise<{ status: number }>): Promise<number | string> =>
  promise.then(
    (response) => response.status,
    (error: unknown) => {
      if (isTokenError(error)) return error.code;
      const status = (error as { response?: { status?: number } }).response?.status;
      return status ?? `error ${(error as Error).message}`;
    },
  );

function independent(sim: Simulator, cids: readonly string[]): Client {
  const firstTokenAt: (number | undefined)[] = cids.map(() => undefined);
  const rigs = cids.map((memberCid, i) => {
    const tokens = new TokenManager({ provider: crowdstrike({ clientId: sim.clientId, clientSecret: sim.clientSecret, memberCid, baseUrl: sim.url }) });
    tokens.on('refresh', () => (firstTokenAt[i] ??= Date.now()));
    tokens.on('error', () => undefined);
    const api = axios.create({ maxRedirects: 0 });
    tokens.attach(api);
    return { tokens, api };
  });
  return {
    firstTokenAt,
    request: (i) => outcome(rigs[i]!.api.get(PATH)),
    close: async () => void (await Promise.all(rigs.map((rig) => rig.tokens.dispose({ revoke: false })))),
  };
}

function falconpyLazy(sim: Simulator, cids: readonly string[]): Client {
  const firstTokenAt: (number | undefined)[] = cids.map(() => undefined);
  const http = axios.create({ validateStatus: () => true });
  const api = axios.create({ baseURL: sim.url, maxRedirects: 0 });
  const tokens = new Map<number, { token: string; expiresAt: number }>();
  const inflight = new Map<number, Promise<string>>();
  const fetchToken = async (i: number): Promise<string> => {
    const body = new URLSearchParams({ client_id: sim.clientId, client_secret: sim.clientSecret, member_cid: cids[i]! }).toString();
    for (let attempt = 0; ; attempt++) {
      const answer = await http.post(sim.tokenUrl, body, { headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
      if (answer.status === 201) {
        const { access_token: token, expires_in: expiresIn } = answer.data as { access_token: string; expires_in: number };
        // Counted from the answer's arrival, as falconpy does (time.time() after the call).
        tokens.set(i, { token, expiresAt: Date.now() + expiresIn * 1000 });
        firstTokenAt[i] ??= Date.now();
        return token;
      }
      if (answer.status !== 429 || attempt >= LAZY_429_RETRIES) throw new Error(`token call ${answer.status}`);
      const hint = Number(answer.headers['x-ratelimit-retryafter']);
      const waitMs = Number.isFinite(hint) ? hint * 1000 - Date.now() : 1_000;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, waitMs)));
    }
  };
  const tokenFor = (i: number): Promise<string> => {
    const held = tokens.get(i);
    if (held !== undefined && Date.now() < held.expiresAt - FALCONPY_RENEW_WINDOW_MS) return Promise.resolve(held.token);
    let call = inflight.get(i);
    if (call === undefined) {
      call = fetchToken(i).finally(() => inflight.delete(i));
      inflight.set(i, call);
    }
    return call;
  };
  return {
    firstTokenAt,
    request: async (i) => {
      let token: string;
      try {
        token = await tokenFor(i);
      } catch {
        return 'token call failed';
      }
      return outcome(api.get(PATH, { headers: { Authorization: `Bearer ${token}` } }));
    },
    close: async () => undefined,
  };
}

function pooled(sim: Simulator, cids: readonly string[], perMinute: number | undefined, refreshTimeoutMs: number | undefined): Client {
  const firstTokenAt: (number | undefined)[] = cids.map(() => undefined);
  const index = new Map(cids.map((cid, i) => [cid, i]));
  const pool = new TokenPool({
    provider: (memberCid) => crowdstrike({ clientId: sim.clientId, clientSecret: sim.clientSecret, memberCid, baseUrl: sim.url }),
    ...(perMinute !== undefined && { budget: tokenBudget({ perMinute }) }),
    ...(refreshTimeoutMs !== undefined && { refreshTimeoutMs }),
  });
  pool.on('refresh', (cid) => (firstTokenAt[index.get(cid)!] ??= Date.now()));
  pool.on('error', () => undefined);
  // An axios instance per child, attached to the child the pool hands out (again, should it ever be made anew).
  const apis = cids.map(() => ({ api: axios.create({ maxRedirects: 0 }), manager: undefined as TokenManager | undefined }));
  return {
    firstTokenAt,
    request: (i) => {
      const child = pool.get(cids[i]!);
      const rig = apis[i]!;
      if (rig.manager !== child) {
        child.attach(rig.api);
        rig.manager = child;
      }
      return outcome(rig.api.get(PATH));
    },
    close: () => pool.dispose({ revoke: false }),
  };
}

interface Tally {
  requests: number;
  waitedForFirstToken: number;
  stalled: number;
  maxLatencyAfterFirstTokenMs: number;
  failed: number;
  failedAtStartup: number;
  failedBy: Record<string, number>;
}

const immediate = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function mssp(options: MsspOptions, seed = 1): Promise<MsspRow[]> {
  const { children, hours, requestEverySeconds, serverBudgetPerMinute, poolBudgetPerMinute, lifetimeSeconds } = options;
  const random = Math.random;
  Math.random = seeded(seed);
  const offsets = seeded(seed + 1);
  const clock = FakeTimers.install({
    now: DAY_START,
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'],
    // A keep-alive socket of an earlier figure's fetch (undici) may close meanwhile and clear its native timer.
    shouldClearNativeTimers: true,
  });
  const cids = Array.from({ length: children }, (_, i) => cidOf(i));
  const sims: Simulator[] = [];
  const clients: Client[] = [];
  const tallies: Tally[] = [];
  const pending = new Set<Promise<void>>();
  let completed = 0;
  // Real I/O until nothing moves: no request arriving or leaving, no timer set, for a few turns.
  const signature = () => `${completed},${clock.countTimers()},${sims.map((s) => `${s.stats.apiCalls},${s.stats.tokenCalls},${s.activeRequests}`).join(',')}`;
  const quiesce = async () => {
    let last = signature();
    for (let spins = 0, idle = 0; spins < 400 && idle < 6; spins++) {
      await immediate();
      const now = signature();
      idle = now === last ? idle + 1 : 0;
      last = now;
    }
  };
  const fire = (c: number, child: number, startup: boolean) => {
    const client = clients[c]!;
    const tally = tallies[c]!;
    tally.requests++;
    const started = Date.now();
    const hadToken = client.firstTokenAt[child] !== undefined;
    if (!hadToken && !startup) tally.waitedForFirstToken++;
    const request = client.request(child).then((status) => {
      completed++;
      const latency = Date.now() - started;
      if (hadToken) {
        if (latency > STALL_MS) tally.stalled++;
        tally.maxLatencyAfterFirstTokenMs = Math.max(tally.maxLatencyAfterFirstTokenMs, latency);
      }
      if (status !== 200) {
        tally.failed++;
        if (startup) tally.failedAtStartup++;
        tally.failedBy[String(status)] = (tally.failedBy[String(status)] ?? 0) + 1;
      }
    });
    pending.add(request);
    void request.finally(() => pending.delete(request));
  };
  const start = Date.now();
  const end = start + hours * 3_600_000;
  const interval = requestEverySeconds * 1000;
  try {
    for (const name of MSSP_CONTENDERS) {
      const sim = await startSimulator({
        dialect: 'crowdstrike',
        memberCids: cids,
        tokenBudgetPerMinute: serverBudgetPerMinute,
        tokenLifetimeSeconds: lifetimeSeconds,
        latencyMs: TOKEN_LATENCY_MS,
        apiLatencyMs: API_LATENCY_MS,
      });
      sims.push(sim);
      clients.push(
        name === 'independent managers'
          ? independent(sim, cids)
          : name === 'falconpy-style lazy'
            ? falconpyLazy(sim, cids)
            : pooled(sim, cids, poolBudgetPerMinute, undefined),
      );
      tallies.push({ requests: 0, waitedForFirstToken: 0, stalled: 0, maxLatencyAfterFirstTokenMs: 0, failed: 0, failedAtStartup: 0, failedBy: {} });
    }
    // The day's traffic: child i at offset[i] + k * interval, every contender at the same moments.
    const offset = cids.map(() => Math.floor(offsets() * interval));
    const order = cids.map((_, i) => i).sort((a, b) => offset[a]! - offset[b]!);
    let cycle = 0;
    let next = 0;
    let trafficDone = false;
    const nextAt = () => start + cycle * interval + offset[order[next]!]!;
    const arm = () => {
      if (nextAt() >= end) trafficDone = true;
      else setTimeout(fireDue, nextAt() - Date.now());
    };
    const fireDue = () => {
      while (nextAt() <= Date.now() && nextAt() < end) {
        for (let c = 0; c < clients.length; c++) fire(c, order[next]!, false);
        if (++next === order.length) [next, cycle] = [0, cycle + 1];
      }
      arm();
    };
    // Start-up: every child of every contender asked for at once.
    for (let c = 0; c < clients.length; c++) for (let child = 0; child < children; child++) fire(c, child, true);
    arm();
    await quiesce();
    // Timer to timer: each fires at its own millisecond (those due at the same one together).
    for (let stuck = 0; (!trafficDone || pending.size > 0) && stuck < 1_000;) {
      const before = `${clock.now},${signature()}`;
      if (clock.countTimers() > 0) {
        clock.next();
        clock.tick(0);
      }
      await quiesce();
      stuck = `${clock.now},${signature()}` === before ? stuck + 1 : 0;
      if (Date.now() > end + 3_600_000) break;
    }
    if (pending.size > 0) throw new Error(`mssp: ${pending.size} requests did not finish`);
    let closed = false;
    const closing = Promise.all(clients.map((client) => client.close())).finally(() => (closed = true));
    for (let i = 0; i < 100 && !closed; i++) {
      clock.tick(100);
      await quiesce();
    }
    await closing;
  } finally {
    for (const sim of sims) await sim.close();
    clock.uninstall();
    Math.random = random;
  }
  return MSSP_CONTENDERS.map((name, c) => {
    const stats = sims[c]!.stats;
    const tally = tallies[c]!;
    const firsts = clients[c]!.firstTokenAt;
    const without = firsts.filter((at) => at === undefined).length;
    const perMinute = new Map<number, number>();
    for (const at of stats.api401Times) perMinute.set(Math.floor(at / 60_000), (perMinute.get(Math.floor(at / 60_000)) ?? 0) + 1);
    return {
      contender: name,
      children,
      simulatedHours: hours,
      requestEverySeconds,
      serverBudgetPerMinute,
      budgetPerMinute: name.startsWith('TokenPool') ? (poolBudgetPerMinute ?? DEFAULT_POOL_BUDGET.perMinute) : undefined,
      requests: tally.requests,
      tokenCalls: stats.tokenCalls,
      tokenRateLimited: stats.tokenRateLimited,
      peakTokenCallsPerMinute: stats.peakTokenCallsPerMinute,
      allFirstTokensMs: without > 0 ? null : Math.max(...firsts.map((at) => at! - start)),
      childrenWithoutToken: without,
      waitedForFirstToken: tally.waitedForFirstToken,
      stalled: tally.stalled,
      maxLatencyAfterFirstTokenMs: tally.maxLatencyAfterFirstTokenMs,
      failed: tally.failed,
      failedAtStartup: tally.failedAtStartup,
      failedBy: tally.failedBy,
      api401: stats.api401,
      peak401PerMinute: Math.max(0, ...perMinute.values()),
      expiredTokenSends: stats.expiredTokenSends,
      apiForbidden: stats.apiForbidden,
    };
  });
}
