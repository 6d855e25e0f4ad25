// The end of a manager's life: the signals that stop its work, the one disposal, and how long
// it waits for a token call in flight.

/** How long dispose waits for a token call in flight before it cuts it off. */
export const DISPOSE_GRACE_MS = 1_000;

/**
 * Node 20 defines Symbol.asyncDispose as this registered symbol, but only in its main realm (not in
 * vm contexts such as jest's): the registered symbol is the same everywhere.
 */
export const asyncDispose: typeof Symbol.asyncDispose = Symbol.asyncDispose ?? (Symbol.for('nodejs.asyncDispose') as typeof Symbol.asyncDispose);

/** The end of a manager's life: the signals that stop its work, and the one disposal. */
export class Disposal {
  /** Aborted at dispose: back-offs and waits stop. */
  readonly waits = new AbortController();
  /** Aborted when dispose gives up on a token call in flight. */
  readonly calls = new AbortController();
  done: Promise<void> | undefined;
}
