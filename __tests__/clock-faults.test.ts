// Our wall clock jumps forward and back by an hour, the process is frozen (every
// timer fires late; once past a token's whole life), and every server's clock is an hour ahead of
// ours, with 429s whose retry header is a Unix time on that clock. Right after the wall clock is
// set back the second time, the token endpoint is down for 75 minutes: no refresh can paper over
// the lie there, and only the monotonic clock knows when the token dies. (With the wall clock
// alone, or without the expiry check at each use, this day sends expired tokens.)
import type { DayReport } from '../scripts/chaos/report';
import { simulateDays, summary } from './helpers/days';

let reports: DayReport[];
beforeAll(async () => {
  reports = await simulateDays('clock', { every: 6 });
}, 600_000);

describe.each(['crowdstrike', 'onelogin', 'oauth2'] as const)('%s: clocks that lie', (dialect) => {
  const day = () => reports.find((r) => r.dialect === dialect)!;

  test('the faults happened', () => {
    expect(day().events.map((e) => e.replace(/^[\d.]+ h: /, ''))).toEqual([
      'our wall clock jumps forward 1 h',
      'our wall clock jumps back 1 h',
      'our wall clock jumps back another 1 h',
      'our wall clock jumps forward 1 h, to the true time',
      'the process is frozen for 5 min',
      'the process is frozen for 31 min',
    ]);
  });

  test('no expired token goes out, outage included; what fails, fails for the outage', () => {
    expect(summary(day())).toMatchObject({ expiredTokenSends: 0, api401: 0, unhandledRejections: 0 });
    expect(day().otherFailures).toEqual([]);
    expect(Object.keys(day().failedByCode).filter((code) => code !== 'network_error')).toEqual([]);
    // At most the 75 minutes of outage (one request every 6 s) went without a token.
    expect(day().requests - day().ok).toBeLessThanOrEqual((75 * 60) / 6);
    expect(day().outages).toHaveLength(1);
  });

  test("a server clock an hour ahead does not turn a 429's few seconds into an hour", () => {
    expect(day().gapViolations).toBe(0);
    expect(day().longestPauseAfter429Ms).toBeLessThanOrEqual(10_000 + 6_000); // one back-off step + one request interval
  });

  test('a wall clock that jumps costs at most a token call per jump, not a loop', () => {
    // Outside the outage: the day's budget, plus a call per jump and freeze, plus 429 retries.
    expect(day().tokenCallsOutsideOutages).toBeLessThanOrEqual(day().tokenCallBudget + 12);
    expect(day().peakTokenCallsPerMinute).toBeLessThan(40);
  });
});
