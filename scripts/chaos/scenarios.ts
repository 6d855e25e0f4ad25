// The days we simulate, each a pure function of the providers and the seed.
import type { Fault } from '../../src/testing';
import type { DialectName } from '../../src/testing/dialects';
import { seeded, type PlannedEvent, type ProviderPlan, type WorldPlan } from './harness';

export type ScenarioName = 'long-run' | 'chaos' | 'clock';
export const SCENARIOS: readonly ScenarioName[] = ['long-run', 'chaos', 'clock'];

const HOUR = 3600;

/** One request a second, nothing going wrong. */
export function longRun(dialects: readonly DialectName[], seed: number, hours = 24, every = 1): WorldPlan {
  return { scenario: 'long-run', seed, hours, requestEverySeconds: every, providers: dialects.map((dialect) => ({ dialect, outages: [] })), events: [] };
}

/**
 * The token endpoint misbehaves all day: 20% of calls answer 500, 5% answer 429 with the dialect's
 * retry header (1-15 s), 5% drop the connection, 5% answer 2 s late; six 10-minute outages in which
 * every call is dropped; and the server revokes the current token about once an hour.
 */
export function chaos(dialects: readonly DialectName[], seed: number, hours = 24, every = 1): WorldPlan {
  const events: PlannedEvent[] = [];
  const providers = dialects.map((dialect, index): ProviderPlan => {
    const random = seeded(seed * 7919 + index * 104_729 + 17);
    const outages: [number, number][] = [];
    for (let i = 0; i < Math.max(1, Math.round(hours / 4)); i++) {
      const start = Math.floor(random() * (hours * HOUR - 600));
      outages.push([start, start + 600]);
    }
    for (let i = 0; i < hours; i++) {
      events.push({
        atSecond: Math.floor(random() * hours * HOUR),
        label: `${dialect}: the server revokes the current token`,
        apply: ({ rigs }) => void rigs[index]!.sim.revokeAll(),
      });
    }
    const callRandom = seeded(seed * 31 + index * 1_000_003 + 3);
    const faults = (): Fault | undefined => {
      const r = callRandom();
      if (r < 0.2) return 500;
      if (r < 0.25) return { rateLimitSeconds: 1 + Math.floor(callRandom() * 15) };
      if (r < 0.3) return 'reset';
      if (r < 0.35) return { delayMs: 2000 };
      return undefined;
    };
    return { dialect, faults, outages };
  });
  return { scenario: 'chaos', seed, hours, requestEverySeconds: every, providers, events };
}

/**
 * Clocks that lie: every server's clock runs an hour ahead of ours (its 429s name Unix times an
 * hour away, its Date header says so too), our wall clock jumps forward and back by an hour (NTP, a
 * VM migration) while monotonic time runs on, and the process is frozen twice (every timer fires
 * late), the second time for 31 minutes, past a CrowdStrike token's whole life. Right after the
 * wall clock has been set back the second time, the token endpoint goes down for 75 minutes: no refresh can hide the
 * lie, and only the monotonic clock knows the token has expired.
 */
export function clockFaults(dialects: readonly DialectName[], seed: number, hours = 24, every = 1): WorldPlan {
  const at = (fraction: number) => Math.floor(hours * HOUR * fraction);
  /** Move our wall clock only: each server's clock (same process) is moved back by as much. */
  const wallJump = (atSecond: number, ms: number, label: string): PlannedEvent => ({
    atSecond,
    label,
    apply: ({ clock, rigs }) => {
      clock.setSystemTime(Date.now() + ms);
      for (const rig of rigs) rig.sim.clockOffsetMs -= ms;
    },
  });
  const freeze = (atSecond: number, ms: number, label: string): PlannedEvent => ({ atSecond, label, apply: ({ clock }) => void clock.jump(ms) });
  const events = [
    wallJump(at(0.1), 3_600_000, 'our wall clock jumps forward 1 h'),
    wallJump(at(0.25), -3_600_000, 'our wall clock jumps back 1 h'),
    wallJump(at(0.4), -3_600_000, 'our wall clock jumps back another 1 h'),
    wallJump(at(0.55), 3_600_000, 'our wall clock jumps forward 1 h, to the true time'),
    freeze(at(0.65), 5 * 60_000, 'the process is frozen for 5 min'),
    freeze(at(0.8), 31 * 60_000, 'the process is frozen for 31 min'),
  ];
  const providers = dialects.map((dialect, index): ProviderPlan => {
    const random = seeded(seed * 131 + index * 7 + 5);
    const faults = (): Fault | undefined => (random() < 0.1 ? { rateLimitSeconds: 2 + Math.floor(random() * 10) } : undefined);
    return { dialect, faults, outages: [[at(0.4) + 10, at(0.4) + 10 + 75 * 60]], serverClockOffsetMs: 3_600_000 };
  });
  return { scenario: 'clock', seed, hours, requestEverySeconds: every, providers, events };
}

export function planFor(scenario: ScenarioName, dialects: readonly DialectName[], seed: number, hours?: number, every?: number): WorldPlan {
  if (scenario === 'long-run') return longRun(dialects, seed, hours, every);
  if (scenario === 'chaos') return chaos(dialects, seed, hours, every);
  return clockFaults(dialects, seed, hours, every);
}
