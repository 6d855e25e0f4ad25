// A caller waiting on a refresh it shares with others.
import { abortedError, type TokenError } from '../errors';
import type { KeepAlive } from './clock';

/** An abort signal as callers hand it in (axios's GenericAbortSignal: `addEventListener` is optional). */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener?: (type: 'abort', listener: () => void, options?: { once?: boolean }) => void;
  removeEventListener?: (type: 'abort', listener: () => void) => void;
}

/**
 * Wait for `shared` on behalf of one caller: the caller's signal ends this wait only (never the
 * shared refresh), and while anyone waits the process stays alive (every timer is unref'd).
 */
export function joinShared<T>(
  shared: Promise<T>,
  signal: AbortSignalLike | undefined,
  keepAlive: KeepAlive,
  failure: (error: unknown) => TokenError,
): Promise<T> {
  if (signal?.aborted) return Promise.reject(abortedError(signal.reason));
  keepAlive.hold();
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const settle = (finish: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener?.('abort', onAbort);
      keepAlive.release();
      finish();
    };
    const onAbort = () => settle(() => reject(abortedError(signal?.reason)));
    signal?.addEventListener?.('abort', onAbort, { once: true });
    shared.then(
      (value) => settle(() => resolve(value)),
      (error: unknown) => settle(() => reject(failure(error))),
    );
  });
}
