// The simulator's API: the token a request carries and how (Bearer, or DPoP with a proof), whether
// it is accepted (a certificate-bound one only on a connection with its certificate, RFC 8705 §3),
// and which counter a refusal adds to.
import type { Reply, ServerDialect, SimRequest } from './dialect';
import type { DpopVerifier } from './dpop';
import type { FlightControl } from './mssp';
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
  /** The listener speaks TLS: each request goes in `apiTlsLog`. */
  readonly tls: boolean;
  /** CrowdStrike: the parent and children the credentials act for (mssp.ts answers accepted tokens). */
  readonly flight?: FlightControl | undefined;
}

/** Which counter a refused API request adds to. */
const SEND_COUNTERS = {
  missing: 'missingTokenSends',
  unknown: 'unknownTokenSends',
  expired: 'expiredTokenSends',
  revoked: 'revokedTokenSends',
  wrongRegion: 'wrongRegionSends',
} as const;

const CERTIFICATE_REFUSED: Reply = {
  status: 401,
  body: { error: 'invalid_token', error_description: 'the access token is bound to a client certificate this connection did not present' },
  headers: { 'WWW-Authenticate': 'Bearer error="invalid_token", error_description="the certificate-bound token came without its certificate"' },
};

/** The answer to an API request, counted (and logged, on a TLS listener). */
export function apiAnswer(request: SimRequest, context: ApiContext): Reply {
  const reply = answer(request, context);
  if (context.tls) {
    const token = /^(?:bearer|dpop)[:\s]\s*(\S+)$/i.exec(request.headers['authorization'] ?? '')?.[1];
    const boundTo = token === undefined ? undefined : context.tokens.issuance(token)?.x5tS256;
    const presented = request.clientCertificate?.thumbprint;
    context.stats.apiTlsLog.push({
      at: context.now,
      path: request.path,
      ...(presented !== undefined && { clientCertificate: presented }),
      ...(boundTo !== undefined && { boundTo }),
      status: reply.status,
    });
  }
  return reply;
}

function answer(request: SimRequest, context: ApiContext): Reply {
  const { stats, dpop } = context;
  const authorization = request.headers['authorization'] ?? '';
  const dpopToken = /^dpop\s+(\S+)$/i.exec(authorization)?.[1];
  const token = dpopToken ?? /^bearer[:\s]\s*(\S+)$/i.exec(authorization)?.[1];
  // Several clouds: credentials (and their tokens) belong to the home one only.
  const refusal = context.tokens.refusal(token, context.now) ?? (context.wrongRegion ? 'wrongRegion' : undefined);
  // DPoP: the scheme, the proof, the key the token is bound to (RFC 9449 §7).
  const issuance = refusal === undefined ? context.tokens.issuance(token!) : undefined;
  const bound = refusal === undefined ? dpop.atApi(request, context.url + request.path, dpopToken ? 'dpop' : 'bearer', token!, issuance?.jkt) : undefined;
  // RFC 8705 §3: a certificate-bound token is good only on a connection that presents that certificate.
  const unbound = issuance?.x5tS256 !== undefined && request.clientCertificate?.thumbprint !== issuance.x5tS256;
  if (refusal === undefined && bound === undefined && !unbound) {
    if (context.flight) return context.flight.answer(request, issuance!, stats);
    stats.apiOk++;
    return { status: 200, body: { meta: { path: request.path }, resources: [] }, headers: dpop.headers() };
  }
  if (refusal !== undefined) stats[SEND_COUNTERS[refusal]]++;
  else if (bound !== undefined) stats.dpopRefusals++;
  else stats.certificateRefusals++;
  stats.api401++;
  stats.api401Times.push(context.now);
  if (bound !== undefined) return bound;
  if (unbound && refusal === undefined) return CERTIFICATE_REFUSED;
  return dpopToken ? dpop.challenge('invalid_token', 'the access token is invalid or expired') : context.dialect.unauthorized(request.path);
}
