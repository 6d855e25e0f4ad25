// The token's state machine (src/core/lifecycle.ts) as a pure function of (life, time, event),
// tested exhaustively: every combination of the life's parts at every kind of moment, every event.
import {
  NEW_LIFE,
  arrival,
  mustRefresh,
  next,
  previousOf,
  sendable,
  shouldRefresh,
  stateOf,
  worthAdopting,
  type Held,
  type Life,
  type LifeEvent,
} from '../src/core/lifecycle';
import { planFor } from '../src/core/policy';
import { accessTokenOf } from '../src/core/token';

const policy = { refreshWindowMs: 300_000 };
const ISSUED = { wall: 1_700_000_000_000, mono: 1_000 };
const LIFETIME = 1_800_000; // refresh 5 min before expiry, never in the last 5 s

function held(gen: number, value = `tok-${gen}`): Held {
  const token = accessTokenOf({ accessToken: value, tokenType: 'Bearer', issuedAt: ISSUED.wall, expiresAt: ISSUED.wall + LIFETIME });
  return { token, plan: planFor(token, ISSUED, policy), gen, header: `Bearer ${value}`, resolved: Promise.resolve(value) };
}

/** Moments by what the plan says on each clock: [label, wall, mono, phase a correct reader sees]. */
const MOMENTS: [string, number, number, 'usable' | 'refresh-due' | 'must-refresh'][] = [
  ['fresh', ISSUED.wall + 60_000, ISSUED.mono + 60_000, 'usable'],
  ['in the refresh window', ISSUED.wall + LIFETIME - 60_000, ISSUED.mono + LIFETIME - 60_000, 'refresh-due'],
  ['in the safety margin', ISSUED.wall + LIFETIME - 1_000, ISSUED.mono + LIFETIME - 1_000, 'must-refresh'],
  ['expired', ISSUED.wall + LIFETIME + 1, ISSUED.mono + LIFETIME + 1, 'must-refresh'],
  ['wall clock says fresh, monotonic says window (wall set back)', ISSUED.wall + 60_000, ISSUED.mono + LIFETIME - 60_000, 'refresh-due'],
  ['monotonic says fresh, wall says expired (slept)', ISSUED.wall + LIFETIME + 1, ISSUED.mono + 60_000, 'must-refresh'],
];

const bools = [false, true];
const lives: Life[] = [];
for (const h of [undefined, held(3)]) {
  for (const refreshing of bools)
    for (const timerHoldsRetry of bools)
      for (const failed of bools)
        for (const disposed of bools) {
          for (const retired of [undefined, { held: held(2), revoked: false }, { held: held(2), revoked: true }]) {
            lives.push({ held: h, retired, gen: 3, refreshing, timerHoldsRetry, failed, disposed });
          }
        }
}

describe('the three rules, at every moment, for every life', () => {
  const cases = lives.flatMap((life) => MOMENTS.map((moment) => [life, moment] as const));

  test(`${cases.length} combinations`, () => {
    for (const [life, [label, wall, mono, phase]] of cases) {
      const where = `${label}, ${JSON.stringify({ ...life, held: life.held?.gen, retired: life.retired && { ...life.retired, held: life.retired.held.gen } })}`;
      const hasToken = life.held !== undefined;
      const canSend = hasToken && !life.disposed && phase !== 'must-refresh';
      // Rule 1: a token is sent only before its use-until moment, on both clocks.
      expect([where, sendable(life, wall, mono)]).toEqual([where, canSend ? life.held : undefined]);
      // Rule 2: in the window, one background refresh, unless one runs or the timer holds the retry.
      expect([where, shouldRefresh(life, wall, mono)]).toEqual([where, canSend && phase === 'refresh-due' && !life.refreshing && !life.timerHoldsRetry]);
      // Rule 3: no token to send: callers wait.
      expect([where, mustRefresh(life, wall, mono)]).toEqual([where, !life.disposed && !canSend]);
      // The state names the same facts.
      const expected = life.disposed
        ? 'disposed'
        : life.refreshing
          ? 'refreshing'
          : !hasToken
            ? 'no-token'
            : phase === 'must-refresh'
              ? 'must-refresh'
              : life.failed
                ? 'failing'
                : phase;
      expect([where, stateOf(life, wall, mono)]).toEqual([where, expected]);
    }
  });
});

describe('events', () => {
  const EVENTS: LifeEvent[] = [
    { type: 'refresh-started' },
    { type: 'token', held: held(4) },
    { type: 'refresh-succeeded', closingIn: false },
    { type: 'refresh-succeeded', closingIn: true },
    { type: 'refresh-failed', retryScheduled: false },
    { type: 'refresh-failed', retryScheduled: true },
    { type: 'timer-fired' },
    { type: 'refused', gen: 3 },
    { type: 'refused', gen: 1 },
    { type: 'revoked', held: held(3) },
    { type: 'disposed' },
  ];

  /** What each event should do, stated on its own terms (the oracle the implementation is held to). */
  function expectedAfter(life: Life, event: LifeEvent): Life {
    // Once disposed, only the token of the call in flight still lands (to be revoked).
    if (life.disposed) return event.type === 'token' ? { ...life, held: event.held } : life;
    switch (event.type) {
      case 'refresh-started':
        return { ...life, refreshing: true };
      case 'token':
        return { ...life, held: event.held, retired: undefined, gen: 4, failed: false };
      case 'refresh-succeeded':
        return { ...life, refreshing: false, timerHoldsRetry: event.closingIn, failed: false };
      case 'refresh-failed':
        return { ...life, refreshing: false, timerHoldsRetry: event.retryScheduled, failed: true };
      case 'timer-fired':
        return { ...life, timerHoldsRetry: false };
      case 'refused':
        return life.held?.gen === event.gen ? { ...life, held: undefined, retired: { held: life.held, revoked: false } } : life;
      case 'revoked':
        // held(3) equals the life's token by value but is another object: a revoke is of that very token.
        return { ...life, held: life.held === event.held ? undefined : life.held, retired: { held: event.held, revoked: true } };
      case 'disposed':
        return { ...life, refreshing: false, timerHoldsRetry: false, disposed: true };
    }
  }

  test(`every event from each of ${lives.length} lives`, () => {
    for (const life of lives) {
      for (const event of EVENTS) {
        const where = `${event.type} from ${JSON.stringify({ ...life, held: life.held?.gen, retired: life.retired?.held.gen })}`;
        expect([where, next(life, event)]).toEqual([where, expectedAfter(life, event)]);
      }
    }
  });

  test('a revoke of the token being served stops serving it', () => {
    const current = held(3);
    const life: Life = { ...NEW_LIFE, held: current, gen: 3 };
    expect(next(life, { type: 'revoked', held: current })).toEqual({ ...life, held: undefined, retired: { held: current, revoked: true } });
  });
});

describe('arrivals, predecessors and adoptions', () => {
  const at = { wall: ISSUED.wall, mono: ISSUED.mono };

  test('a new token gets the next generation; the same token handed back keeps its own', () => {
    const first = arrival(NEW_LIFE, held(0, 'a').token, at, policy);
    expect(first).toMatchObject({ renewed: true, held: { gen: 1, header: 'Bearer a' } });
    const life = next(NEW_LIFE, { type: 'token', held: (first as { held: Held }).held });
    expect(arrival(life, held(0, 'a').token, at, policy)).toMatchObject({ renewed: false, held: { gen: 1 } });
    expect(arrival(life, held(0, 'b').token, at, policy)).toMatchObject({ renewed: true, held: { gen: 2 } });
    // A refused token handed back is still the same token (no new generation, no refresh event).
    const refused = next(life, { type: 'refused', gen: 1 });
    expect(arrival(refused, held(0, 'a').token, at, policy)).toMatchObject({ renewed: false, held: { gen: 1 } });
  });

  test('a token with too little life left is refused on arrival', () => {
    const late = { wall: ISSUED.wall + LIFETIME - 2_000, mono: ISSUED.mono + LIFETIME - 2_000 };
    expect(arrival(NEW_LIFE, held(0).token, late, policy)).toEqual({ leftMs: 2_000 });
  });

  test('the predecessor a provider is told of: the live token, else a refused one not yet revoked', () => {
    const current = held(3);
    const fresh = { wall: ISSUED.wall + 60_000, mono: ISSUED.mono + 60_000 };
    expect(previousOf({ ...NEW_LIFE, held: current }, fresh)).toEqual({ held: current, live: true });
    const refused = next({ ...NEW_LIFE, held: current, gen: 3 }, { type: 'refused', gen: 3 });
    expect(previousOf(refused, fresh)).toEqual({ held: current, live: false });
    expect(previousOf(next(refused, { type: 'revoked', held: current }), fresh)).toBeUndefined();
    expect(previousOf(NEW_LIFE, fresh)).toBeUndefined();
  });

  test('a shared token is adopted only when it is not ours, not one we gave up, and not due', () => {
    const current = held(3, 'mine');
    const life = next({ ...NEW_LIFE, held: current }, { type: 'refused', gen: 0 });
    expect(worthAdopting(life, held(0, 'theirs').token, at, policy)).toBe(true);
    expect(worthAdopting(life, held(0, 'mine').token, at, policy)).toBe(false);
    const gaveUp = next({ ...NEW_LIFE, held: current, gen: 3 }, { type: 'refused', gen: 3 });
    expect(worthAdopting(gaveUp, held(0, 'mine').token, at, policy)).toBe(false);
    const window = { wall: ISSUED.wall + LIFETIME - 60_000, mono: ISSUED.mono + LIFETIME - 60_000 };
    expect(worthAdopting(life, held(0, 'theirs').token, window, policy)).toBe(false);
  });
});
