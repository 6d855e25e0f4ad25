// 24 simulated hours of one request a second per provider, in fake time, through
// an attached axios instance to the simulator on loopback.
import type { DayReport } from '../scripts/chaos/report';
import { simulateDays, summary } from './helpers/days';

let reports: DayReport[];
beforeAll(async () => {
  reports = await simulateDays('long-run');
}, 600_000);

const DIALECTS = ['crowdstrike', 'onelogin', 'oauth2'] as const;
const EXPECTED_CALLS = { crowdstrike: 58, onelogin: 3, oauth2: 27 }; // 1 + floor(24 h / (lifetime - window))

describe.each(DIALECTS)('%s: a day of steady traffic', (dialect) => {
  const day = () => reports.find((r) => r.dialect === dialect)!;

  test('every second of the day sent a request, and every one succeeded', () => {
    expect(day().simulatedHours).toBe(24);
    expect(day().requests).toBe(86_400);
    expect(summary(day())).toMatchObject({ ok: 86_400, failedByCode: {}, unhandledRejections: 0 });
  });

  test('zero expired-token sends, zero 401s, zero requests that waited for the token endpoint', () => {
    expect(summary(day())).toMatchObject({ expiredTokenSends: 0, api401: 0, stalls: 0 });
  });

  test('token calls stay within ceil(24 h / (lifetime - refresh window)) + 1', () => {
    expect(day().tokenCalls).toBeLessThanOrEqual(day().tokenCallBudget);
    expect(day().tokenCalls).toBe(EXPECTED_CALLS[dialect]);
    expect(day().peakTokenCallsPerMinute).toBe(1);
  });
});

test('onelogin: each rotation revoked its predecessor (and dispose the last one)', () => {
  const day = reports.find((r) => r.dialect === 'onelogin')!;
  expect(day.revokeCalls).toBe(day.tokenCalls);
});
