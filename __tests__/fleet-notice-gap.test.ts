// How often a notice from another replica is acted on, in simulated time: a forged delete-and-notice
// (anyone who can write to the store can send one) costs the fleet one token call per gap at most.
import { TokenManager, memoryStore, storeKey } from '../src';
import { PEER_NOTICE_GAP_MS } from '../src/core/fleet';
import { keyring } from '../src/core/seal';
import { startSimulator } from '../src/testing';
import { FAST_RETRY, cleanup, providerFor, record, track } from './helpers/setup';
import { useFakeTime } from './helpers/fake-time';

const fake = useFakeTime(cleanup);

test('a delete notice for the shared token is acted on once per gap: one token call for both managers, then none until the gap is over', async () => {
  const time = fake.now();
  const sim = await startSimulator({ dialect: 'crowdstrike' });
  track(() => sim.close());
  const store = memoryStore({ shared: true });
  const make = () => {
    const tokens = new TokenManager({ provider: providerFor(sim), store, retry: FAST_RETRY });
    track(() => tokens.dispose());
    return tokens;
  };
  const [a, b] = [make(), make()];
  const events = [record(a), record(b)];
  await time.run(Promise.all([a.getToken(), b.getToken()]));
  expect(sim.stats.tokenCalls).toBe(1);
  const key = storeKey(providerFor(sim));
  const tagOf = (token: string) => keyring(providerFor(sim).identity, sim.clientSecret).tagFor(token);
  /**
   * What a forger does: delete the entry by the tag of the token in use (readable by anyone who
   * reads the store). A store tells of real deletes only, so an entry already gone is first put
   * back from a copy taken before (anyone who can write to the store can).
   */
  let copy: Awaited<ReturnType<typeof store.get>>;
  const forge = async () => {
    const current = await store.get(key);
    if (current !== undefined) copy = current;
    else await store.set(key, { tag: copy!.tag, sealed: copy!.sealed }, copy!.ttlMs);
    await store.delete(key, tagOf(await time.run(a.getToken())));
    await time.advance(200, 10);
  };
  const tokens = () => time.run(Promise.all([a.getToken(), b.getToken()]));

  await forge();
  expect(sim.stats.tokenCalls).toBe(2); // both dropped it; one fetched, the other took its token
  const [first] = await tokens();
  expect(await tokens()).toEqual([first, first]);

  await time.advance(PEER_NOTICE_GAP_MS - 1_000);
  await forge();
  expect(sim.stats.tokenCalls).toBe(2); // within the gap: ignored
  expect(await tokens()).toEqual([first, first]);

  await time.advance(1_000);
  await forge();
  expect(sim.stats.tokenCalls).toBe(3); // the gap is over: acted on again
  const [second] = await tokens();
  expect(second).not.toBe(first);
  expect(await tokens()).toEqual([second, second]);
  expect(sim.stats.api401).toBe(0);
  expect(events.flatMap((e) => e.error)).toEqual([]);
});
