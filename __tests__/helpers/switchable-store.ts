// A real in-process store (memoryStore, shared, with its leased lock) that can be switched off:
// its calls then reject, as a dead Redis's do. It counts its reads.
import { memoryStore } from '../../src/core/store';
import type { TokenStore } from '../../src/types';

export interface SwitchableStore {
  readonly store: TokenStore;
  up: boolean;
  gets: number;
}

export function switchableStore(): SwitchableStore {
  const inner = memoryStore({ shared: true });
  const state = { up: true, gets: 0, store: undefined as unknown as TokenStore };
  const guard = <T>(run: () => Promise<T>): Promise<T> => (state.up ? run() : Promise.reject(new Error('connection refused')));
  state.store = {
    shared: true,
    get: (key) => {
      state.gets += 1;
      return guard(() => inner.get(key));
    },
    set: (key, entry, ttl) => guard(() => inner.set(key, entry, ttl)),
    delete: (key, tag) => guard(() => inner.delete(key, tag)),
    lock: (key) => guard(() => inner.lock!(key)),
  };
  return state;
}
