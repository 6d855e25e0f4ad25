// 24 simulated hours against a token endpoint that fails 20% of calls with 500,
// 5% with 429, drops 5%, answers 5% two seconds late, goes down six times for 10 minutes, while
// the server revokes the current token about once an hour. Seeded: the same day every run.
// (`npm run chaos` runs the same days at one request a second; here one every 6 s keeps the
// suite within its time budget.)
import type { DayReport } from '../scripts/chaos/report';
import { simulateDays, summary } from './helpers/days';

let reports: DayReport[];
beforeAll(async () => {
  reports = await simulateDays('chaos', { every: 6 });
}, 600_000);

describe.each(['crowdstrike', 'onelogin', 'oauth2'] as const)('%s: a day of chaos', (dialect) => {
  const day = () => reports.find((r) => r.dialect === dialect)!;

  test('the chaos happened: failed token calls, revocations, outages', () => {
    expect(day().simulatedHours).toBe(24);
    expect(day().errorEvents).toBeGreaterThan(0);
    expect(day().api401).toBeGreaterThan(10);
    expect(day().tokenCalls).toBeGreaterThan(day().tokenCallBudget);
    expect(day().outages).toHaveLength(6);
  });

  test('every request succeeded or failed with a TokenError whose code says why', () => {
    expect(day().otherFailures).toEqual([]);
    for (const code of Object.keys(day().failedByCode)) expect(['network_error', 'server_error', 'rate_limited']).toContain(code);
    expect(day().ok / day().requests).toBeGreaterThan(0.99);
  });

  test('zero expired-token sends and zero unhandled rejections, outages included', () => {
    expect(summary(day())).toMatchObject({ expiredTokenSends: 0, unhandledRejections: 0 });
  });

  test('the token endpoint is never called faster than the retry policy allows', () => {
    expect(day().gapViolations).toBe(0);
    expect(day().peakTokenCallsPerMinute).toBeLessThan(300); // CrowdStrike's limit per source IP
    expect(day().peakTokenCallsPerMinute).toBeLessThan(40); // and far from it
  });

  test('after each outage the next token call comes within one back-off step', () => {
    const felt = day().outages.filter((outage) => outage.attemptsDuring > 0);
    expect(felt.length).toBeGreaterThan(0);
    for (const outage of felt) expect(outage.firstAttemptAfterMs).toBeLessThanOrEqual(outage.allowedMs);
  });
});
