/**
 * Emit without letting a throwing listener break the caller's state: the listener's error
 * surfaces on its own, as an uncaught exception, the way a faulty listener should. Untyped on
 * purpose: each emitter's own typed `#emit` is what callers see.
 */
export function emitSafely(emitter: { emit: unknown }, event: string, ...args: unknown[]): void {
  try {
    (emitter.emit as (event: string, ...args: unknown[]) => boolean).call(emitter, event, ...args);
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}
