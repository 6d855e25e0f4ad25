// TLS for the token call and for certificate-bound API requests (RFC 8705): the client certificate
// and its key, and a CA to trust, read once into one agent.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { Agent } from 'node:https';
import { createSecureContext } from 'node:tls';
import { inspect } from 'node:util';
import { ConfigError } from '../errors';

export interface TlsOptions {
  /** The client certificate (PEM), for mTLS client authentication and certificate-bound tokens. */
  cert?: string | Buffer;
  /** Its private key (PEM). */
  key?: string | Buffer;
  /** CA certificates (PEM) to trust at the token and revocation endpoints (and at the API for certificate-bound tokens), in place of Node's bundled roots (as Node's `ca` does). */
  ca?: string | Buffer | readonly (string | Buffer)[];
}

function isCertificate(value: unknown): boolean {
  try {
    if (typeof value !== 'string' && !Buffer.isBuffer(value)) return false;
    new X509Certificate(value);
    return true;
  } catch {
    return false;
  }
}

/** The agent of every TLS connection, and the client key's DER bytes (what store keys derive from). */
export function readTls(tls: TlsOptions, who: string): { agent: Agent; keyDer: Uint8Array | undefined } {
  if (tls === null || typeof tls !== 'object') throw new ConfigError('tls', `${who}: tls must be { cert, key, ca }`);
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new ConfigError('tls', `${who}: tls needs both cert and key (the client certificate and its private key), or neither`);
  }
  let keyDer: Uint8Array | undefined;
  if (tls.cert !== undefined) {
    let ok = true;
    try {
      const certificate = new X509Certificate(tls.cert);
      const key = createPrivateKey(tls.key!);
      ok = certificate.checkPrivateKey(key);
      keyDer = key.export({ format: 'der', type: 'pkcs8' });
    } catch {
      throw new ConfigError('tls', `${who}: tls.cert and tls.key must be a PEM certificate and its PEM private key`);
    }
    if (!ok) throw new ConfigError('tls', `${who}: tls.key is not the private key of tls.cert`);
  }
  const ca = tls.ca === undefined ? undefined : Array.isArray(tls.ca) ? [...(tls.ca as unknown[])] : [tls.ca];
  if (ca?.some((entry) => !isCertificate(entry))) throw new ConfigError('tls', `${who}: tls.ca must be a PEM certificate, or an array of them`);
  // The agent lands in every request config it serves (and so in errors, logs and JSON): it holds
  // a secure context, never the PEM texts, and shows nothing of itself.
  const secureContext = createSecureContext({ ...(tls.cert !== undefined && { cert: tls.cert, key: tls.key }), ...(ca && { ca: ca as (string | Buffer)[] }) });
  const agent = Object.defineProperties(new Agent({ keepAlive: true, secureContext }), {
    toJSON: { value: () => '[tokenwarden TLS agent]' },
    [inspect.custom]: { value: () => '[tokenwarden TLS agent]' },
  });
  return { agent, keyDer };
}
