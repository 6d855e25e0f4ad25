// What a simulator can be started with.
import type { DialectName } from './dialects';

export interface SimulatorOptions {
  dialect: DialectName;
  clientId?: string;
  clientSecret?: string;
  /** Default: the vendor's (CrowdStrike 1799, OneLogin 36000, OAuth 2.0 3600). */
  tokenLifetimeSeconds?: number;
  /**
   * Round trip of the token and revoke endpoints: half before the server acts (a token is issued
   * mid-flight, as on a real network), half on the way back.
   */
  latencyMs?: number;
  /** Delay before an API request's token is checked and answered. */
  apiLatencyMs?: number;
  /**
   * CrowdStrike: one listener per cloud, sharing tokens; `urlFor(cloud)` gives each address. The
   * API accepts tokens at the home cloud only.
   */
  regions?: readonly string[];
  /** CrowdStrike: the cloud `X-Cs-Region` names. Default: the first region. */
  homeRegion?: string;
  /** The server's clock minus ours: shows in `Date`, `X-Ratelimit-Retryafter`, `created_at`. */
  clockOffsetMs?: number;
  /** CrowdStrike: member CIDs the credentials may act for. Default: any. */
  memberCids?: readonly string[];
  /**
   * Count a token's life from its issue time rounded down to the second, as oidc-provider does: a
   * token then dies up to 1 s before `sent + expires_in`. Default false.
   */
  roundIssuedAt?: boolean;
}
