// Tokens heard arriving in a watched store, for replicas that wait for the lock holder's token:
// they wake on its arrival instead of polling (the poll stays, slower, for a notice that is lost).
import { unrefTimer } from './clock';

export class Arrivals {
  /** Arrivals heard so far: a waiter that saw this count before its read wakes at once on a later one. */
  count = 0;
  readonly #waiting = new Set<() => void>();

  /** A token was put in the store: every waiter reads it now. */
  heard(): void {
    this.count++;
    for (const wake of [...this.#waiting]) wake();
  }

  /** Until an arrival after `since` (true), `ms` pass (false), or `signal` aborts (rejects with its reason). */
  after(since: number, ms: number, signal: AbortSignal): Promise<boolean> {
    if (this.count !== since) return Promise.resolve(true);
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<boolean>((resolve, reject) => {
      const end = (finish: () => void) => () => {
        clearTimeout(timer);
        this.#waiting.delete(woken);
        signal.removeEventListener('abort', aborted);
        finish();
      };
      const woken = end(() => resolve(true));
      const aborted = end(() => reject(signal.reason));
      const timer = unrefTimer(
        end(() => resolve(false)),
        ms,
      );
      this.#waiting.add(woken);
      signal.addEventListener('abort', aborted, { once: true });
    });
  }
}
