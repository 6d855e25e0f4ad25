import type { EventEmitter } from 'eventemitter3';
import type { TokenManagerEvents } from '../types';

/**
 * Emit without letting a throwing listener break the caller's state: the listener's error
 * surfaces on its own, as an uncaught exception, the way a faulty listener should.
 */
export function emitSafely<E extends keyof TokenManagerEvents>(
  emitter: EventEmitter<TokenManagerEvents>,
  event: E,
  ...args: Parameters<TokenManagerEvents[E]>
): void {
  try {
    (emitter.emit as (event: E, ...args: unknown[]) => boolean).call(emitter, event, ...args);
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}
