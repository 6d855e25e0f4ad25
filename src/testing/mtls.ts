// RFC 8705 as a server sees it: the certificate a TLS connection presented (its x5t#S256 thumbprint,
// its subject, whether it chains to the server's CA), and the two ways a client authenticates with
// one: tls_client_auth (a certificate the CA signed, with the registered subject DN) and
// self_signed_tls_client_auth (a certificate registered by its thumbprint).
import { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

/** The client certificate of a request's TLS connection. */
export interface PresentedCertificate {
  /** RFC 8705 `x5t#S256`: the SHA-256 of the DER, base64url. */
  readonly thumbprint: string;
  /** The subject DN, one `attr=value` a line, as Node prints it. */
  readonly subject: string;
  /** It chains to the simulator's `tls.ca`. */
  readonly trusted: boolean;
}

const x5tOf = (certificate: X509Certificate) => Buffer.from(certificate.fingerprint256.replace(/:/g, ''), 'hex').toString('base64url');

/** The certificate `req`'s connection presented, if it is TLS and presented one. */
export function presentedCertificate(req: IncomingMessage): PresentedCertificate | undefined {
  const socket = req.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerX509Certificate !== 'function') return undefined;
  const certificate = socket.getPeerX509Certificate();
  if (certificate === undefined) return undefined;
  return { thumbprint: x5tOf(certificate), subject: certificate.subject, trusted: socket.authorized === true };
}

/** A registered self-signed certificate: its PEM, or already its thumbprint. */
export function thumbprintOf(entry: string | Buffer): string {
  const text = entry.toString();
  if (text.includes('-----BEGIN')) return x5tOf(new X509Certificate(entry));
  if (!/^[\w-]{43}$/.test(text)) throw new TypeError('startSimulator: selfSignedThumbprints takes PEM certificates or base64url SHA-256 thumbprints');
  return text;
}

/** The DN as a set of `attr=value`: comma- or line-separated, attribute names in any case, in any order. */
function dnParts(dn: string): string[] {
  return dn
    .split(/[\n,]/)
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map((part) => {
      const eq = part.indexOf('=');
      return eq < 0 ? part : `${part.slice(0, eq).trim().toUpperCase()}=${part.slice(eq + 1).trim()}`;
    })
    .sort();
}

export function subjectMatches(subject: string, expected: string): boolean {
  return dnParts(subject).join('\n') === dnParts(expected).join('\n');
}

export interface TlsClientConfig {
  readonly clientId: string;
  readonly subject: string | undefined;
  readonly thumbprints: ReadonlySet<string>;
  readonly enabled: (method: 'tls_client_auth' | 'self_signed_tls_client_auth') => boolean;
}

/** How a request with only a client_id and a certificate authenticates, and why it is refused, if it is. */
export function checkTlsClient(
  config: TlsClientConfig,
  clientId: string | undefined,
  certificate: PresentedCertificate,
): { method: 'tls_client_auth' | 'self_signed_tls_client_auth' | 'none'; refusal?: string } {
  const selfSigned = config.thumbprints.has(certificate.thumbprint);
  const method = selfSigned || config.subject === undefined ? 'self_signed_tls_client_auth' : 'tls_client_auth';
  if (!selfSigned && config.subject === undefined && config.thumbprints.size === 0)
    return { method: 'none', refusal: 'no client authentication (no client certificate is registered: tlsClientSubject, selfSignedThumbprints)' };
  if (!config.enabled(method)) return { method, refusal: `${method} is not enabled for this client` };
  if (clientId === undefined) return { method, refusal: 'client_id is missing' };
  if (clientId !== config.clientId) return { method, refusal: 'client_id is not the client of the certificate' };
  if (method === 'self_signed_tls_client_auth')
    return selfSigned ? { method } : { method, refusal: 'the client certificate is not registered (selfSignedThumbprints)' };
  if (!certificate.trusted) return { method, refusal: 'the client certificate is not signed by a CA of tls.ca' };
  if (!subjectMatches(certificate.subject, config.subject!)) return { method, refusal: `the client certificate's subject is not ${config.subject!}` };
  return { method };
}
