// The background probe: while the store is down, an unref'd timer asks it once a second whether it
// is back, so sharing resumes without waiting for a refresh to try the store again.
import { Fleet } from '../src/core/fleet';
import { keyring } from '../src/core/seal';
import { useFakeTime } from './helpers/fake-time';
import { switchableStore } from './helpers/switchable-store';

const clock = { now: () => Date.now(), monotonic: () => performance.now() };
const time = useFakeTime(async () => undefined);

test('after an outage the probe notices the store is back within about a second, with no refresh asking', async () => {
  const target = switchableStore();
  const errors: string[] = [];
  const fleet = new Fleet(target.store, keyring('id', 'secret'), clock, (error) => errors.push(error.code));
  target.up = false;
  await time.now().run(fleet.claim(() => true, new AbortController().signal, 1_000));
  expect(fleet.down).toBe(true);
  expect(errors).toEqual(['store_unavailable']);
  // Down for 5 s: the probe asks once a second, no more.
  const before = target.gets;
  await time.now().advance(5_000, 100);
  expect(target.gets - before).toBeGreaterThanOrEqual(4);
  expect(target.gets - before).toBeLessThanOrEqual(6);
  expect(fleet.down).toBe(true);
  target.up = true;
  const took = await time.now().until(() => !fleet.down, 3_000, 50);
  expect(took).toBeLessThanOrEqual(1_100);
  // Back up: the probe stops.
  const after = target.gets;
  await time.now().advance(5_000, 100);
  expect(target.gets).toBe(after);
  fleet.dispose();
});

test('a disposed fleet stops probing a store that is still down', async () => {
  const target = switchableStore();
  const fleet = new Fleet(target.store, keyring('id', 'secret'), clock, () => undefined);
  target.up = false;
  await time.now().run(fleet.claim(() => true, new AbortController().signal, 1_000));
  expect(fleet.down).toBe(true);
  fleet.dispose();
  const before = target.gets;
  await time.now().advance(5_000, 100);
  expect(target.gets).toBe(before);
  expect(time.now().clock.countTimers()).toBe(0);
});
