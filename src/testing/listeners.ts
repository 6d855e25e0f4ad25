// The simulator's listeners on 127.0.0.1: plain HTTP, or (with `tls`) HTTPS that asks every client
// for a certificate and lets it in without one (RFC 8705: the server judges the certificate, not
// the handshake).
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { SimTlsOptions } from './options';

export interface Listener {
  readonly server: Server;
  /** `http://127.0.0.1:port`, or `https://` with `tls`. */
  readonly url: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export async function listen(handler: Handler, tls: SimTlsOptions | undefined): Promise<Listener> {
  const ca = tls?.ca === undefined ? undefined : Array.isArray(tls.ca) ? [...(tls.ca as (string | Buffer)[])] : [tls.ca as string | Buffer];
  const server: Server =
    tls === undefined
      ? createHttpServer(handler)
      : createHttpsServer({ cert: tls.cert, key: tls.key, ...(ca && { ca }), requestCert: true, rejectUnauthorized: false }, handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return { server, url: `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}` };
}

/** Close `listener`, dropping the connections it holds (keep-alive ones too). */
export function close({ server }: Listener): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
