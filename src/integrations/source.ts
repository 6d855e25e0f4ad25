// What an integration (axios today, fetch next) needs from the manager, and nothing more.
import type { Held } from '../core/lifecycle';
import type { AbortSignalLike } from '../core/waiters';
import type { SenderBinding } from '../types';

export type { AbortSignalLike };

/** A token as the request path needs it: its generation (a 401 names the token by it), header and token. */
export type HeldToken = Pick<Held, 'gen' | 'header' | 'token'>;

export interface BearerSource {
  /** Where relative URLs go; may change once (CrowdStrike region discovery). */
  readonly baseUrl: string | undefined;
  /** How the token travels when it is sender-constrained (DPoP, a client certificate); usually none. */
  readonly binding: SenderBinding | undefined;
  /** The token to send right now, if there is one; never waits (it may start a background refresh). */
  forRequest(): HeldToken | undefined;
  /** Wait for a token to send (rejects with `disposed` once the manager is). */
  wait(signal: AbortSignalLike | undefined): Promise<HeldToken>;
  /** The API answered 401 to token `gen`: the token to replay with (`replay`: the request is sent again with it). */
  unauthorized(gen: number, signal: AbortSignalLike | undefined, replay: boolean): Promise<HeldToken>;
  /** The API accepted token `gen`. */
  accepted(gen: number): void;
}
