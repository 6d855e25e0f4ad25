// Simulated days in fake time: for each provider the real simulator on loopback, a real
// TokenManager attached to a real axios instance, one request per simulated second, and the faults
// a scenario plans. The providers share one process and one clock, as services in one process do.
// Time comes from @sinonjs/fake-timers (the engine behind jest's fake timers), used directly for
// `jump()`: a process frozen, its timers firing late. Runs in a plain Node process (run.ts).
import * as FakeTimers from '@sinonjs/fake-timers';
import axios, { type AxiosInstance } from 'axios';
import { TokenError, TokenManager, clientCredentials, crowdstrike, onelogin, type TokenProvider } from '../../src';
import { startSimulator, type Fault, type Simulator } from '../../src/testing';
import type { DialectName } from '../../src/testing/dialects';
import { report, type DayReport } from './report';

export const DAY_START = Date.parse('2026-01-05T00:00:00Z');
const API_PATH: Record<DialectName, string> = { crowdstrike: '/devices/queries/devices/v1', onelogin: '/api/2/users', oauth2: '/v1/things' };

export type FakeClock = ReturnType<typeof FakeTimers.install>;

export interface Rig {
  readonly dialect: DialectName;
  readonly sim: Simulator;
  readonly manager: TokenManager;
  readonly api: AxiosInstance;
}

export interface World {
  readonly clock: FakeClock;
  readonly rigs: readonly Rig[];
}

export interface PlannedEvent {
  /** Simulated seconds since traffic started (monotonic time: a freeze counts). */
  readonly atSecond: number;
  readonly label: string;
  apply(world: World): void;
}

export interface ProviderPlan {
  readonly dialect: DialectName;
  /** What each of its token calls gets, given simulated seconds since traffic started. */
  readonly faults?: (call: number, elapsedSeconds: number) => Fault | undefined;
  /** Token endpoint outages (every call dropped), in simulated seconds: [start, end). */
  readonly outages: readonly (readonly [number, number])[];
  readonly serverClockOffsetMs?: number;
}

export interface WorldPlan {
  readonly scenario: string;
  readonly seed: number;
  readonly hours: number;
  /** Each provider gets one request every this many simulated seconds. */
  readonly requestEverySeconds: number;
  readonly providers: readonly ProviderPlan[];
  readonly events: readonly PlannedEvent[];
}

/** What the harness saw of one provider's requests (the simulator counts the rest). */
export interface Traffic {
  requests: number;
  ok: number;
  /** Requests that carried a token issued after they started: they waited for a token call. */
  stalls: number;
  failedByCode: Record<string, number>;
  otherFailures: string[];
  errorEvents: number;
  outageMarks: { startSecond: number; start: number; end: number | null }[];
}

/** A small seeded PRNG (mulberry32): the same seed gives the same day. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The provider a client of `sim` uses (a wrong `clientSecret` for the bad-credentials paths). */
export function providerFor(sim: Simulator, overrides: { clientSecret?: string } = {}): TokenProvider {
  const credentials = { clientId: sim.clientId, clientSecret: overrides.clientSecret ?? sim.clientSecret };
  if (sim.dialectName === 'crowdstrike') return crowdstrike({ ...credentials, baseUrl: sim.url });
  if (sim.dialectName === 'onelogin') return onelogin({ ...credentials, baseUrl: sim.url });
  return clientCredentials({ ...credentials, tokenUrl: sim.tokenUrl, revocationUrl: sim.revokeUrl, baseUrl: sim.url });
}

const immediate = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Let loopback I/O finish at the current simulated instant (a fake latency holds a request over).
 * Six quiet turns of the event loop, because one refresh can be two round trips (OneLogin revokes,
 * then fetches) with a turn or two of client work between them.
 */
export async function settle(sims: readonly Simulator[]): Promise<void> {
  for (let spins = 0, idle = 0; spins < 60 && idle < 6; spins++) {
    await immediate();
    idle = sims.every((sim) => sim.activeRequests === 0) ? idle + 1 : 0;
  }
}

function send(rig: Rig, traffic: Traffic, elapsed: () => number, pending: Set<Promise<void>>): void {
  traffic.requests++;
  const issuedBefore = rig.sim.stats.tokensIssued;
  const request = rig.api.get(API_PATH[rig.dialect]).then(
    (response) => {
      traffic.ok++;
      const carried = String(response.config.headers.Authorization ?? '').replace(/^Bearer /, '');
      if ((rig.sim.issuance(carried)?.sequence ?? 0) > issuedBefore) traffic.stalls++;
    },
    (error: unknown) => {
      const status = (error as { response?: { status?: number } }).response?.status;
      const code = error instanceof TokenError ? error.code : `http ${status ?? (error as Error).message}`;
      traffic.failedByCode[code] = (traffic.failedByCode[code] ?? 0) + 1;
      if (!(error instanceof TokenError) && traffic.otherFailures.length < 10) traffic.otherFailures.push(`${Math.round(elapsed())} s: ${code}`);
    },
  );
  pending.add(request);
  void request.finally(() => pending.delete(request));
}

export async function simulate(plan: WorldPlan): Promise<DayReport[]> {
  const wallStart = process.hrtime.bigint();
  const random = seeded(plan.seed); // every manager's jitter, from one seeded stream
  let unhandledRejections = 0;
  const onUnhandled = () => void unhandledRejections++;
  process.on('unhandledRejection', onUnhandled);
  const clock = FakeTimers.install({ now: DAY_START, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
  let trafficStart = performance.now();
  const elapsed = () => (performance.now() - trafficStart) / 1000;

  const rigs: Rig[] = [];
  const traffic: Traffic[] = [];
  for (const provider of plan.providers) {
    const sim = await startSimulator({
      dialect: provider.dialect,
      ...(provider.serverClockOffsetMs !== undefined && { clockOffsetMs: provider.serverClockOffsetMs }),
    });
    const down = (at: number) => provider.outages.some(([start, end]) => at >= start && at < end);
    sim.setFaultPolicy((call) => (down(elapsed()) ? 'reset' : provider.faults?.(call, elapsed())));
    const manager = new TokenManager({ provider: providerFor(sim), random });
    const api = axios.create({ maxRedirects: 0 });
    manager.attach(api);
    const rig: Rig = { dialect: provider.dialect, sim, manager, api };
    const seen: Traffic = { requests: 0, ok: 0, stalls: 0, failedByCode: {}, otherFailures: [], errorEvents: 0, outageMarks: [] };
    manager.on('error', () => void seen.errorEvents++);
    rigs.push(rig);
    traffic.push(seen);
  }
  const world: World = { clock, rigs };
  const sims = rigs.map((rig) => rig.sim);

  // The first tokens, before the day's traffic: start-up, not stalls.
  const first = Promise.all(rigs.map((rig) => rig.manager.getToken().catch(() => undefined)));
  while (rigs.some((rig) => rig.sim.stats.tokensIssued === 0) && performance.now() - trafficStart < 600_000) {
    clock.tick(1000);
    await settle(sims);
  }
  await first;
  trafficStart = performance.now();

  const events = [...plan.events].sort((a, b) => a.atSecond - b.atSecond);
  const happened: string[] = [];
  const pending = new Set<Promise<void>>();
  for (let second = 0; elapsed() < plan.hours * 3600; second++) {
    if (second % plan.requestEverySeconds === 0) {
      rigs.forEach((rig, i) => send(rig, traffic[i]!, elapsed, pending));
      await settle(sims);
    }
    while (events.length > 0 && events[0]!.atSecond <= elapsed()) {
      const event = events.shift()!;
      event.apply(world);
      happened.push(`${(elapsed() / 3600).toFixed(2)} h: ${event.label}`);
    }
    plan.providers.forEach((provider, i) => {
      const now = elapsed();
      for (const [start, end] of provider.outages) {
        const marks = traffic[i]!.outageMarks;
        let mark = marks.find((m) => m.startSecond === start);
        if (!mark && now >= start) marks.push((mark = { startSecond: start, start: rigs[i]!.sim.now(), end: null }));
        if (mark && mark.end === null && now >= end) mark.end = rigs[i]!.sim.now();
      }
    });
    clock.tick(1000);
    await settle(sims);
  }
  // Let what is still in flight finish (a request may be waiting out a back-off).
  for (let i = 0; i < 900 && pending.size > 0; i++) {
    clock.tick(1000);
    await settle(sims);
  }
  const stats = rigs.map((rig) => rig.sim.stats);
  for (const rig of rigs) {
    await rig.manager.dispose();
    await rig.sim.close();
  }
  clock.uninstall();
  process.off('unhandledRejection', onUnhandled);
  const wallSeconds = Number(process.hrtime.bigint() - wallStart) / 1e9;
  return rigs.map((rig, i) =>
    report({
      plan,
      dialect: rig.dialect,
      lifetimeSeconds: rig.sim.tokenLifetimeSeconds,
      stats: stats[i]!,
      traffic: traffic[i]!,
      unhandledRejections,
      events: happened,
      wallSeconds,
    }),
  );
}
