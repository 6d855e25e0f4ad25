// What the simulator counts.

/** One token call as the simulator saw it. */
export interface TokenCallRecord {
  /** Server-clock ms when the call arrived. */
  readonly at: number;
  /** The status it was answered with, or how it was dropped. */
  status: number | 'reset' | 'hang' | 'pending';
  /** The pause a 429 asked for, in ms. */
  retryAfterMs?: number;
}

export interface SimulatorStats {
  tokenCalls: number;
  tokensIssued: number;
  revokeCalls: number;
  tokensRevoked: number;
  apiCalls: number;
  apiOk: number;
  api401: number;
  /** Server-clock ms of every 401 the API answered (CrowdStrike allows 15 a minute per IP). */
  api401Times: number[];
  /** API requests whose bearer had expired: a client bug. */
  expiredTokenSends: number;
  revokedTokenSends: number;
  /** API requests sent to a cloud the credentials do not belong to (with `regions`). */
  wrongRegionSends: number;
  unknownTokenSends: number;
  missingTokenSends: number;
  /** Every token call, in order. */
  tokenCallLog: TokenCallRecord[];
}

/** When a token was issued: `sequence` counts issued tokens (1 for the first). */
export interface TokenIssuance {
  readonly sequence: number;
  readonly issuedAt: number;
  readonly expiresAt: number;
}

export const emptyStats = (): SimulatorStats => ({
  tokenCalls: 0,
  tokensIssued: 0,
  revokeCalls: 0,
  tokensRevoked: 0,
  apiCalls: 0,
  apiOk: 0,
  api401: 0,
  api401Times: [],
  expiredTokenSends: 0,
  revokedTokenSends: 0,
  wrongRegionSends: 0,
  unknownTokenSends: 0,
  missingTokenSends: 0,
  tokenCallLog: [],
});
