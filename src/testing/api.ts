// The simulator's API: the token a request carries and how (Bearer, or DPoP with a proof), whether
// it is accepted, and which counter a refusal adds to.
import type { Reply, ServerDialect, SimRequest } from './dialect';
import type { DpopVerifier } from './dpop';
import type { SimulatorStats } from './stats';
import type { TokenRegistry } from './tokens';

export interface ApiContext {
  readonly tokens: TokenRegistry;
  readonly dpop: DpopVerifier;
  readonly dialect: ServerDialect;
  readonly stats: SimulatorStats;
  /** The server's clock. */
  readonly now: number;
  /** The listener's base URL. */
  readonly url: string;
  /** The request came to a cloud the credentials do not belong to. */
  readonly wrongRegion: boolean;
}

/** Which counter a refused API request adds to. */
const SEND_COUNTERS = {
  missing: 'missingTokenSends',
  unknown: 'unknownTokenSends',
  expired: 'expiredTokenSends',
  revoked: 'revokedTokenSends',
  wrongRegion: 'wrongRegionSends',
} as const;

/** The answer to an API request, counted. */
export function apiAnswer(request: SimRequest, context: ApiContext): Reply {
  const { stats, dpop } = context;
  const authorization = request.headers['authorization'] ?? '';
  const dpopToken = /^dpop\s+(\S+)$/i.exec(authorization)?.[1];
  const token = dpopToken ?? /^bearer[:\s]\s*(\S+)$/i.exec(authorization)?.[1];
  // Several clouds: credentials (and their tokens) belong to the home one only.
  const refusal = context.tokens.refusal(token, context.now) ?? (context.wrongRegion ? 'wrongRegion' : undefined);
  // DPoP: the scheme, the proof, the key the token is bound to (RFC 9449 §7).
  const bound =
    refusal === undefined
      ? dpop.atApi(request, context.url + request.path, dpopToken ? 'dpop' : 'bearer', token!, context.tokens.issuance(token!)?.jkt)
      : undefined;
  if (refusal === undefined && bound === undefined) {
    stats.apiOk++;
    return { status: 200, body: { meta: { path: request.path }, resources: [] }, headers: dpop.headers() };
  }
  if (refusal !== undefined) stats[SEND_COUNTERS[refusal]]++;
  else stats.dpopRefusals++;
  stats.api401++;
  stats.api401Times.push(context.now);
  if (bound !== undefined) return bound;
  return dpopToken ? dpop.challenge('invalid_token', 'the access token is invalid or expired') : context.dialect.unauthorized(request.path);
}
