// Figure 3: a simulated day. One request per simulated second (at a random moment within it) per
// contender, CrowdStrike's 1799 s tokens, a token call that takes 400 ms (the token is issued
// half-way) and API requests 50 ms on the way in, the API answering 401 for expired tokens.
// Figure 5 reads the 401s against CrowdStrike's budget of 15 bad-token requests a minute.
import * as FakeTimers from '@sinonjs/fake-timers';
import { startSimulator, type Simulator } from '../../src/testing';
import { seeded, settle } from '../../scripts/chaos/harness';
import { CONTENDERS, type Contender, type ContenderName } from '../contenders';

export const DAY_CONTENDERS: readonly ContenderName[] = [
  'tokenwarden',
  'tokenwarden (30 s window)',
  'axios-auth-refresh',
  'axios-token-interceptor',
  'oauth2-client (fetch)',
  'falconjs-style',
];
const TOKEN_LATENCY_MS = 400;
const API_LATENCY_MS = 50;

export interface DayRow {
  readonly contender: string;
  readonly simulatedHours: number;
  readonly tokenLifetimeSeconds: number;
  readonly requests: number;
  readonly tokenCalls: number;
  /** 401s the API answered (each one a bad-token request in CrowdStrike's budget). */
  readonly api401: number;
  /** Requests sent again after a 401 (and then answered 200). */
  readonly replayed: number;
  /** Requests that waited for a token call (longer than the API's 50 ms). */
  readonly stalled: number;
  /** Requests that did not end in a 200. */
  readonly failed: number;
  readonly expiredTokenSends: number;
  /** Most 401s in any minute, against CrowdStrike's 15. */
  readonly peak401PerMinute: number;
}

interface Seen {
  requests: number;
  stalled: number;
  failed: number;
  failedWith401: number;
}

/** `lifetimeSeconds`: CrowdStrike's 1799 by default; the smoke run uses short tokens to see refreshes. */
export async function day(hours: number, seed: number, lifetimeSeconds = 1799): Promise<DayRow[]> {
  Math.random = seeded(seed);
  const offsets = seeded(seed + 1);
  const clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
  const sims: Simulator[] = [];
  const contenders: Contender[] = [];
  const seen: Seen[] = [];
  for (const name of DAY_CONTENDERS) {
    const sim = await startSimulator({
      dialect: 'crowdstrike',
      latencyMs: TOKEN_LATENCY_MS,
      apiLatencyMs: API_LATENCY_MS,
      tokenLifetimeSeconds: lifetimeSeconds,
    });
    sims.push(sim);
    contenders.push(CONTENDERS[name](sim));
    seen.push({ requests: 0, stalled: 0, failed: 0, failedWith401: 0 });
  }
  const pending = new Set<Promise<void>>();
  const fire = (contender: Contender, counts: Seen) => {
    counts.requests++;
    const started = Date.now();
    const request = contender.request('/devices/queries/devices/v1').then(
      (status) => {
        if (Date.now() - started > API_LATENCY_MS) counts.stalled++;
        if (status !== 200) counts.failed++;
        if (status === 401) counts.failedWith401++;
      },
      () => void counts.failed++,
    );
    pending.add(request);
    void request.finally(() => pending.delete(request));
  };
  try {
    // Each client's first token is start-up (figure 2's subject), not part of the day.
    let warmedUp = 0;
    for (const contender of contenders)
      void contender
        .request('/devices/queries/devices/v1')
        .catch(() => 0)
        .finally(() => warmedUp++);
    for (let i = 0; i < 120 && warmedUp < contenders.length; i++) {
      clock.tick(500);
      await settle(sims);
    }
    if (warmedUp < contenders.length) throw new Error('the warm-up requests did not finish');
    for (const sim of sims) sim.resetStats();
    for (let second = 0; second < hours * 3600; second++) {
      const offset = Math.floor(offsets() * 900);
      clock.tick(offset);
      await settle(sims);
      contenders.forEach((contender, i) => fire(contender, seen[i]!));
      await settle(sims);
      clock.tick(API_LATENCY_MS);
      await settle(sims);
      clock.tick(1000 - offset - API_LATENCY_MS);
      await settle(sims);
    }
    for (let i = 0; i < 600 && pending.size > 0; i++) {
      clock.tick(1000);
      await settle(sims);
    }
  } finally {
    for (const contender of contenders) await contender.close();
    for (const sim of sims) await sim.close();
    clock.uninstall();
  }
  return DAY_CONTENDERS.map((name, i) => {
    const stats = sims[i]!.stats;
    const counts = seen[i]!;
    const perMinute = new Map<number, number>();
    for (const at of stats.api401Times) perMinute.set(Math.floor(at / 60_000), (perMinute.get(Math.floor(at / 60_000)) ?? 0) + 1);
    return {
      contender: name,
      simulatedHours: hours,
      tokenLifetimeSeconds: lifetimeSeconds,
      requests: counts.requests,
      tokenCalls: stats.tokenCalls,
      api401: stats.api401,
      replayed: stats.api401 - counts.failedWith401,
      stalled: counts.stalled,
      failed: counts.failed,
      expiredTokenSends: stats.expiredTokenSends,
      peak401PerMinute: Math.max(0, ...perMinute.values()),
    };
  });
}
