// A fleet whose store goes down: replicas keep the token they share while it lasts instead of each
// fetching its own at its refresh moment, share again once the store answers, and fetch their own
// only when the shared token nears its end. Simulated time; a real in-process store that can be
// switched off, the simulator over loopback.
import { TokenManager, crowdstrike } from '../src';
import { startSimulator, type Simulator } from '../src/testing';
import { useFakeTime } from './helpers/fake-time';
import { FAST_RETRY, axios, cleanup, track } from './helpers/setup';
import { switchableStore, type SwitchableStore } from './helpers/switchable-store';

const K = 4;
const fake = useFakeTime(cleanup);

/** K managers sharing `target`, each sending a request every second through an attached instance. */
async function fleet(target: SwitchableStore) {
  const sim: Simulator = await startSimulator({ dialect: 'crowdstrike', tokenLifetimeSeconds: 60 });
  track(() => sim.close());
  const outages: number[] = Array.from({ length: K }, () => 0);
  const managers = Array.from({ length: K }, (_, i) => {
    const tokens = new TokenManager({
      provider: crowdstrike({ clientId: sim.clientId, clientSecret: sim.clientSecret, baseUrl: sim.url }),
      store: target.store,
      retry: FAST_RETRY,
      random: () => i / K,
    });
    tokens.on('error', (error) => void (error.code === 'store_unavailable' && outages[i]!++));
    track(() => tokens.dispose({ revoke: false }));
    return tokens;
  });
  const instances = managers.map((tokens) => {
    const api = axios.create();
    tokens.attach(api);
    return api;
  });
  let failed = 0;
  /** One request from every manager, then `ms` of simulated time; `seconds` times over. */
  const traffic = async (seconds: number) => {
    for (let s = 0; s < seconds; s++) {
      await fake.now().run(Promise.all(instances.map((api) => api.get('/devices/queries/devices/v1').catch(() => void failed++))));
      await fake.now().advance(1_000, 250);
    }
  };
  await fake.now().run(Promise.all(managers.map((tokens) => tokens.getToken())));
  return { sim, managers, outages, traffic, failed: () => failed };
}

test('a store outage over the refresh moments costs no token call: the shared token is kept, then one call shares again', async () => {
  const target = switchableStore();
  const { sim, managers, outages, traffic, failed } = await fleet(target);
  expect(sim.stats.tokenCalls).toBe(1);
  const first = await managers[0]!.getToken();

  await traffic(20);
  // Down from 20 s to 35 s: every manager's refresh moment (25 s to 30 s) falls in the outage. Each
  // keeps the token; its timer closes in on it, half the way to its end (at 37 s to 42 s).
  target.up = false;
  await traffic(15);
  expect(sim.stats.tokenCalls).toBe(1); // each kept the shared token, none fetched its own
  for (const tokens of managers) expect(await tokens.getToken()).toBe(first);
  expect(outages).toEqual([1, 1, 1, 1]);

  target.up = true;
  await traffic(15);
  // The probe ends the outage within a second; the next refresh round shares one new token again.
  expect(sim.stats.tokenCalls).toBe(2);
  const second = await managers[0]!.getToken();
  expect(second).not.toBe(first);
  for (const tokens of managers) expect(await tokens.getToken()).toBe(second);
  expect(failed()).toBe(0);
  expect(sim.stats.expiredTokenSends).toBe(0);
  expect(sim.stats.api401).toBe(0);
});

test('an outage that outlasts the shared token: each replica fetches its own once, near its end, and no request fails', async () => {
  const target = switchableStore();
  const { sim, managers, traffic, failed } = await fleet(target);
  const first = await managers[0]!.getToken();
  await traffic(20);
  target.up = false;
  await traffic(35); // to 55 s: past the point (half the 30 s lead left) where keeping stops
  expect(sim.stats.tokenCalls).toBe(1 + K); // one of its own each, not one per refresh moment and retry
  for (const tokens of managers) expect(await tokens.getToken()).not.toBe(first);
  expect(failed()).toBe(0);
  expect(sim.stats.expiredTokenSends).toBe(0);
});
