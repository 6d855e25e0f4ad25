import fc from 'fast-check';
import { Deadline, RefreshTimer } from '../src/core/clock';
import { decide, decideByPlan, nextRefresh, planFor, refreshLeadMs, retryIn, safetyMarginMs, type RefreshDecision } from '../src/core/policy';
import { DEFAULT_RETRY } from '../src/core/retry';
import { backoffMs } from '../src/core/pacer';

const policy = { refreshWindowMs: 5 * 60_000 };
const MIN = 60_000;

describe('refresh decision (pure)', () => {
  test.each<[string, number, number, RefreshDecision]>([
    // CrowdStrike, 1799 s: window 5 min, margin 5 s
    ['CrowdStrike fresh', 20 * MIN, 1799_000, 'use'],
    ['CrowdStrike just outside the window', 5 * MIN + 1, 1799_000, 'use'],
    ['CrowdStrike at the window', 5 * MIN, 1799_000, 'refresh'],
    ['CrowdStrike inside the window', 60_000, 1799_000, 'refresh'],
    ['CrowdStrike just above the margin', 5_001, 1799_000, 'refresh'],
    ['CrowdStrike at the margin', 5_000, 1799_000, 'must-refresh'],
    ['CrowdStrike expired', -1, 1799_000, 'must-refresh'],
    // OneLogin, 10 h
    ['OneLogin fresh', 9 * 60 * MIN, 36_000_000, 'use'],
    ['OneLogin in window', 4 * MIN, 36_000_000, 'refresh'],
    // a 4-second test token: window capped at half (2 s), margin 1 s (a whole-second server may
    // have rounded its issue time down by up to 1 s)
    ['4 s token after 1.9 s', 2_100, 4_000, 'use'],
    ['4 s token after 2 s', 2_000, 4_000, 'refresh'],
    ['4 s token near its end', 1_001, 4_000, 'refresh'],
    ['4 s token at its margin', 1_000, 4_000, 'must-refresh'],
    // a 2-second token: a quarter of its life (0.5 s); a 20-second one: 2 s (10%)
    ['2 s token at its margin', 500, 2_000, 'must-refresh'],
    ['2 s token just above it', 501, 2_000, 'refresh'],
    ['20 s token at its margin', 2_000, 20_000, 'must-refresh'],
    ['NaN remaining', Number.NaN, 4_000, 'must-refresh'],
  ])('%s', (_name, remaining, lifetime, expected) => {
    expect(decide(remaining, lifetime, policy)).toBe(expected);
  });

  test('the window is never more than half the lifetime, and the margin never more than 5 s', () => {
    expect(refreshLeadMs(4_000, policy)).toBe(2_000);
    expect(refreshLeadMs(1799_000, policy)).toBe(5 * MIN);
    expect(refreshLeadMs(1799_000, { refreshWindowMs: 60 * MIN })).toBe(899_500);
    expect(safetyMarginMs(36_000_000)).toBe(5_000);
    expect(safetyMarginMs(4_000)).toBe(1_000);
    expect(safetyMarginMs(10_000)).toBe(1_000);
    expect(safetyMarginMs(2_000)).toBe(500);
    // a zero window still refreshes before the margin, never after it
    expect(refreshLeadMs(1799_000, { refreshWindowMs: 0 })).toBe(5_000);
  });

  test('property: the decision moves one way only as time passes', () => {
    const order = { use: 0, refresh: 1, 'must-refresh': 2 } as const;
    fc.assert(
      fc.property(
        fc.integer({ min: 1_000, max: 10 * 86_400_000 }),
        fc.nat({ max: 3_600_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (lifetime, window, a, b) => {
          const p = { refreshWindowMs: window };
          const [early, late] = a > b ? [a, b] : [b, a];
          return order[decide(early * lifetime, lifetime, p)] <= order[decide(late * lifetime, lifetime, p)];
        },
      ),
      { numRuns: 5_000 },
    );
  });

  test('property: a token is never usable past expiry minus the margin, and always before its refresh point', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1_000, max: 10 * 86_400_000 }),
        fc.nat({ max: 3_600_000 }),
        fc.integer({ min: -86_400_000, max: 10 * 86_400_000 }),
        (lifetime, window, remaining) => {
          const p = { refreshWindowMs: window };
          const verdict = decide(remaining, lifetime, p);
          if (remaining <= safetyMarginMs(lifetime)) return verdict === 'must-refresh';
          if (remaining > refreshLeadMs(lifetime, p)) return verdict === 'use';
          return verdict === 'refresh';
        },
      ),
      { numRuns: 10_000 },
    );
  });

  test('property: the precomputed plan the request path uses agrees with decide() on both clocks', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1_000, max: 86_400_000 }), // lifetime
        fc.nat({ max: 3_600_000 }), // window
        fc.integer({ min: 0, max: 86_400_000 }), // wall time elapsed since issue
        fc.integer({ min: -3_600_000, max: 3_600_000 }), // how far the wall clock jumped vs monotonic
        (lifetime, window, elapsed, jump) => {
          const p = { refreshWindowMs: window };
          const issuedAt = 1_700_000_000_000;
          const token = { accessToken: 't', tokenType: 'Bearer', issuedAt, expiresAt: issuedAt + lifetime };
          const plan = planFor(token, { wall: issuedAt, mono: 500 }, p);
          const wall = issuedAt + elapsed + jump;
          const mono = 500 + elapsed;
          const remaining = Math.min(token.expiresAt - wall, token.expiresAt - issuedAt - (mono - 500));
          return decideByPlan(plan, wall, mono) === decide(remaining, lifetime, p);
        },
      ),
      { numRuns: 10_000 },
    );
  });

  test('the next refresh: at the refresh point, spread earlier in a fleet, closing in on a reused token', () => {
    const issued = { wall: 1_000_000, mono: 0 };
    const token = { accessToken: 't', tokenType: 'Bearer', issuedAt: issued.wall, expiresAt: issued.wall + 1_799_000 };
    const plan = planFor(token, issued, policy);
    expect(nextRefresh(plan, issued, 500, 0)).toEqual({ inMs: 1_499_000, closingIn: false });
    // A fleet: at most a quarter of the window (5 min - 5 s) / 4, capped at 30 s, earlier.
    expect(nextRefresh(plan, issued, 500, 0.999).inMs).toBeCloseTo(1_499_000 - 0.999 * 30_000, 0);
    // The same token came back already due: half of what is left before the margin, not at once.
    const late = { wall: issued.wall + 1_600_000, mono: 1_600_000 };
    expect(nextRefresh(plan, late, 500, 0)).toEqual({ inMs: (1_799_000 - 1_600_000 - 5_000) / 2, closingIn: true });
    // After a failed background refresh: within one back-off step, and never once the token is gone.
    expect(retryIn(plan, late, 500, 10_000)).toBe(10_000);
    expect(retryIn(plan, { wall: issued.wall + 1_795_000, mono: 1_795_000 }, 500, 10_000)).toBeUndefined();
    expect([1, 2, 3, 10, 30].map((step) => backoffMs(step, DEFAULT_RETRY))).toEqual([500, 1_000, 2_000, 10_000, 10_000]);
  });

  test('a refresh timer longer than setTimeout can wait (24.8 days) waits in steps, not at once', () => {
    jest.useFakeTimers();
    try {
      let fired = 0;
      const timer = new RefreshTimer(() => void fired++);
      timer.arm(2 ** 31 + 60_000);
      jest.advanceTimersByTime(2 ** 31 - 1);
      expect(fired).toBe(0);
      jest.advanceTimersByTime(60_001);
      expect(fired).toBe(1);
    } finally {
      jest.useRealTimers();
    }
  });

  test('a deadline has passed when either clock says so', () => {
    const deadline = new Deadline({ wall: 1_000, mono: 10 }, 100);
    expect(deadline.remaining({ wall: 1_050, mono: 20 })).toBe(50); // wall is the pessimist
    expect(deadline.remaining({ wall: 1_000, mono: 100 })).toBe(10); // monotonic is the pessimist (wall jumped back)
    expect(deadline.remaining({ wall: 1_100, mono: 10 })).toBeLessThanOrEqual(0); // slept: the wall clock knows
    expect(deadline.remaining({ wall: 900, mono: 110 })).toBeLessThanOrEqual(0); // wall set back: the monotonic one knows
    expect(deadline.remaining({ wall: 1_099, mono: 109 })).toBe(1);
  });
});
