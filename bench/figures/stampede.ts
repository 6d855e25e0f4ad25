// Figure 2: 10,000 requests at once at start-up, no token yet. How many token calls (limit: 1),
// and how many requests the API refused on the way.
import http from 'node:http';
import { startSimulator } from '../../src/testing';
import { CONTENDERS, type ContenderName } from '../contenders';

export const STAMPEDE_CONTENDERS: readonly ContenderName[] = [
  'tokenwarden',
  'axios-auth-refresh',
  'axios-token-interceptor',
  'oauth2-client (fetch)',
  'falconjs-style',
];

export interface StampedeRow {
  readonly contender: string;
  readonly requests: number;
  readonly tokenCalls: number;
  readonly api401: number;
  readonly failed: number;
}

export async function stampede(requests: number): Promise<StampedeRow[]> {
  const rows: StampedeRow[] = [];
  // Thousands of sockets would exhaust file descriptors; the question is token calls, not sockets.
  const previous = http.globalAgent.maxSockets;
  http.globalAgent.maxSockets = 256;
  try {
    for (const name of STAMPEDE_CONTENDERS) {
      const sim = await startSimulator({ dialect: 'crowdstrike', latencyMs: 50 });
      const contender = CONTENDERS[name](sim);
      if (contender.axios) contender.axios.defaults.httpAgent = http.globalAgent;
      const outcomes = await Promise.all(Array.from({ length: requests }, () => contender.request('/devices/queries/devices/v1').catch(() => 0)));
      rows.push({
        contender: name,
        requests,
        tokenCalls: sim.stats.tokenCalls,
        api401: sim.stats.api401,
        failed: outcomes.filter((status) => status !== 200).length,
      });
      await contender.close();
      await sim.close();
    }
  } finally {
    http.globalAgent.maxSockets = previous;
  }
  return rows;
}
