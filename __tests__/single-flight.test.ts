// However many callers, one token request.
import { DIALECTS, axios, cleanup, rig } from './helpers/setup';

afterEach(cleanup);

describe.each(DIALECTS)('%s: single flight', (dialect) => {
  test('500 concurrent getToken() calls with no token make one token request', async () => {
    const { sim, tokens } = await rig(dialect, { latencyMs: 50 });
    const results = await Promise.all(Array.from({ length: 500 }, () => tokens.getToken()));
    expect(sim.stats.tokenCalls).toBe(1);
    expect(new Set(results).size).toBe(1);
  });

  test('300 concurrent requests through two attached instances make one token request', async () => {
    const { sim, tokens, api } = await rig(dialect, { latencyMs: 50 });
    const other = axios.create({ baseURL: sim.url });
    tokens.attach(other);
    const responses = await Promise.all(Array.from({ length: 300 }, (_, i) => (i % 2 ? api : other).get('/devices/queries/devices/v1')));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(sim.stats.tokenCalls).toBe(1);
    expect(sim.stats.apiOk).toBe(300);
  });

  test('401s from 100 concurrent requests that carried the same token make one token request', async () => {
    const { sim, tokens, api, events } = await rig(dialect, { apiLatencyMs: 30 });
    await tokens.getToken();
    const before = sim.stats.tokenCalls;
    sim.revokeAll();
    const responses = await Promise.all(Array.from({ length: 100 }, () => api.get('/api/2/users')));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(sim.stats.tokenCalls - before).toBe(1);
    expect(sim.stats.api401).toBe(100); // each was refused once...
    expect(sim.stats.apiOk).toBe(100); // ...and replayed once
    expect(events.refresh.map((e) => e.reason)).toEqual(['initial', 'unauthorized']);
  });

  test('a 401 for a token that is no longer the current one makes no token request', async () => {
    const { sim, tokens, api } = await rig(dialect, { apiLatencyMs: 800 });
    const first = await tokens.getToken();
    // This request leaves with the first token and is held at the server...
    const slow = api.get('/slow');
    await new Promise((resolve) => setTimeout(resolve, 50));
    // ...while the manager moves on to a second token and the first one is revoked.
    const second = await tokens.refresh();
    sim.revoke(first);
    const calls = sim.stats.tokenCalls;
    const response = await slow;
    expect(response.status).toBe(200); // replayed with the second token
    expect(sim.stats.tokenCalls).toBe(calls); // without asking for a third
    expect(await tokens.getToken()).toBe(second.accessToken);
    expect(sim.stats.api401).toBe(1);
  });
});
