// The simulator's HTTP plumbing: reading a request, writing a reply, and the faults it can inject.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Reply, ServerDialect, SimRequest } from './dialect';
import { presentedCertificate } from './mtls';

/**
 * What the next token (or revoke) call gets instead of a normal answer: a status in the dialect's
 * error envelope, a dropped connection, no answer at all, headers and then a body that trickles
 * in one byte a second and never ends (`'drip'`), a raw body, a 429 with the dialect's retry
 * headers, or a normal answer after a delay.
 */
export type Fault =
  | number
  | 'reset'
  | 'hang'
  | 'drip'
  | { readonly status: number; readonly body: string; readonly contentType?: string }
  | { readonly rateLimitSeconds: number }
  | { readonly delayMs: number };

/** Where a fault needs the simulator: its dialect, its clock, and the hanging responses it holds. */
export interface FaultContext {
  readonly dialect: ServerDialect;
  readonly now: number;
  readonly hung: Set<ServerResponse>;
}

/** Apply `fault`; true when it answered (or dropped) the request, false to answer normally. */
export async function applyFault(fault: Fault | undefined, res: ServerResponse, context: FaultContext): Promise<boolean> {
  if (fault === undefined) return false;
  const { dialect, now } = context;
  if (fault === 'reset') {
    res.socket?.destroy();
    return true;
  }
  if (fault === 'hang' || fault === 'drip') {
    context.hung.add(res);
    res.once('close', () => context.hung.delete(res));
    if (fault === 'drip') {
      // Each byte resets a socket's idle timer: only a deadline for the whole exchange ends this.
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '1000000', Date: new Date(now).toUTCString() });
      res.write('{');
      const drip = setInterval(() => (res.destroyed ? clearInterval(drip) : res.write(' ')), 1_000);
      res.once('close', () => clearInterval(drip));
    }
    return true;
  }
  if (typeof fault === 'number') {
    const reply = dialect.error(fault, fault >= 500 ? 'internal server error' : `simulated ${fault}`);
    const headers = fault === 429 ? { ...reply.headers, ...dialect.rateLimitHeaders(1, now) } : reply.headers;
    send(res, { ...reply, ...(headers && { headers }) }, now);
    return true;
  }
  if ('rateLimitSeconds' in fault) {
    const reply = dialect.error(429, 'API rate limit exceeded');
    send(res, { ...reply, headers: { ...reply.headers, ...dialect.rateLimitHeaders(fault.rateLimitSeconds, now) } }, now);
    return true;
  }
  if ('delayMs' in fault) {
    await delay(fault.delayMs);
    return false;
  }
  res.writeHead(fault.status, { 'Content-Type': fault.contentType ?? 'application/json', Date: new Date(now).toUTCString() });
  res.end(fault.body);
  return true;
}

/** A JSON reply with a `Date` header from the simulator's clock (which may disagree with ours). */
export function send(res: ServerResponse, reply: Reply, now: number): void {
  if (res.destroyed) return;
  res.writeHead(reply.status, { 'Content-Type': 'application/json', Date: new Date(now).toUTCString(), ...reply.headers });
  res.end(JSON.stringify(reply.body));
}

export function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

export function readRequest(req: IncomingMessage): Promise<SimRequest> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > 1 << 20) req.destroy(new Error('body too large'));
      else chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(req.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      const url = req.url ?? '/';
      const mark = url.indexOf('?');
      const [path, query] = mark < 0 ? [url, new URLSearchParams()] : [url.slice(0, mark), new URLSearchParams(url.slice(mark + 1))];
      const clientCertificate = presentedCertificate(req);
      const source = req.socket.remoteAddress ?? 'unknown';
      const body = Buffer.concat(chunks).toString('utf8');
      resolve({ method: req.method ?? 'GET', path, query, source, headers, body, ...(clientCertificate && { clientCertificate }) });
    });
  });
}
