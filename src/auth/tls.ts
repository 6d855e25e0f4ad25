// TLS for the token call and for certificate-bound API requests (RFC 8705): the client certificate
// and its key, and a CA to trust, read once into one agent.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { Agent } from 'node:https';
import { ConfigError } from '../errors';

export interface TlsOptions {
  /** The client certificate (PEM), for mTLS client authentication and certificate-bound tokens. */
  cert?: string | Buffer;
  /** Its private key (PEM). */
  key?: string | Buffer;
  /** CA certificates (PEM) to trust for the token endpoint and the API, in place of Node's bundled roots (as Node's `ca` does). */
  ca?: string | Buffer | readonly (string | Buffer)[];
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
  const ca = tls.ca === undefined ? undefined : Array.isArray(tls.ca) ? [...(tls.ca as (string | Buffer)[])] : [tls.ca as string | Buffer];
  const agent = new Agent({ keepAlive: true, ...(tls.cert !== undefined && { cert: tls.cert, key: tls.key }), ...(ca && { ca }) });
  return { agent, keyDer };
}
