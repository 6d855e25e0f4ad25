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

/** Where to listen: port 0 picks a free one. */
export interface Address {
  readonly port?: number;
  readonly host?: string;
}

export async function listen(handler: Handler, tls: SimTlsOptions | undefined, at: Address = {}): Promise<Listener> {
  const ca = tls?.ca === undefined ? undefined : Array.isArray(tls.ca) ? [...(tls.ca as (string | Buffer)[])] : [tls.ca as string | Buffer];
  const server: Server =
    tls === undefined
      ? createHttpServer(handler)
      : createHttpsServer({ cert: tls.cert, key: tls.key, ...(ca && { ca }), requestCert: true, rejectUnauthorized: false }, handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port ?? 0, at.host ?? '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return { server, url: `${tls === undefined ? 'http' : 'https'}://${urlHost(at.host ?? '127.0.0.1')}:${port}` };
}

/** A host for the URL clients use: a wildcard address is reached on loopback, an IPv6 one in brackets. */
function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/** A listener per region; a fixed `port` is the first one's only, the others take free ones. */
export async function listenAll(
  regions: readonly string[],
  handlerFor: (region: string) => Handler,
  options: { tls?: SimTlsOptions | undefined; port?: number | undefined; host?: string | undefined },
): Promise<Map<string, Listener>> {
  const listeners = new Map<string, Listener>();
  for (const [i, region] of regions.entries()) {
    listeners.set(
      region,
      await listen(handlerFor(region), options.tls, { ...(options.host !== undefined && { host: options.host }), port: i === 0 ? (options.port ?? 0) : 0 }),
    );
  }
  return listeners;
}

/** Close `listener`, dropping the connections it holds (keep-alive ones too). */
export function close({ server }: Listener): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
