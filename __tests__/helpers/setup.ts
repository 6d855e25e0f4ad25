import axios, { type AxiosInstance } from 'axios';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TokenManager, type TokenError, type TokenManagerOptions } from '../../src';
import { providerFor } from '../../scripts/chaos/harness';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/testing';
import type { AccessToken, RefreshReason } from '../../src/types';

export type DialectName = SimulatorOptions['dialect'];
export const DIALECTS: readonly DialectName[] = ['crowdstrike', 'onelogin', 'oauth2'];

/** Fast back-off for tests whose subject is not the back-off itself. */
export const FAST_RETRY = { minTimeout: 20, maxTimeout: 100, randomize: false } as const;

export { providerFor };

export interface Recorded {
  refresh: { token: AccessToken; reason: RefreshReason }[];
  error: TokenError[];
  revoke: AccessToken[];
  dispose: number;
}

export function record(tokens: TokenManager): Recorded {
  const events: Recorded = { refresh: [], error: [], revoke: [], dispose: 0 };
  tokens.on('refresh', (token, reason) => events.refresh.push({ token, reason }));
  tokens.on('error', (error) => events.error.push(error));
  tokens.on('revoke', (token) => events.revoke.push(token));
  tokens.on('dispose', () => events.dispose++);
  return events;
}

export interface Rig {
  sim: Simulator;
  tokens: TokenManager;
  api: AxiosInstance;
  events: Recorded;
}

const open: (() => Promise<void>)[] = [];

/** A simulator, a manager for it and an attached axios instance; torn down by `cleanup()`. */
export async function rig(
  dialect: DialectName,
  sim: Partial<SimulatorOptions> = {},
  manager: Partial<TokenManagerOptions> & { clientSecret?: string } = {},
): Promise<Rig> {
  const server = await startSimulator({ dialect, ...sim });
  const { clientSecret, ...options } = manager;
  const tokens = new TokenManager({ provider: providerFor(server, clientSecret === undefined ? {} : { clientSecret }), retry: FAST_RETRY, ...options });
  const events = record(tokens);
  const api = axios.create();
  tokens.attach(api);
  open.push(async () => {
    await tokens.dispose({ revoke: false });
    await server.close();
  });
  return { sim: server, tokens, api, events };
}

/** A server of the test's own on a loopback port, closed (its connections too) by cleanup(): its URL. */
export async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  open.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A server that answers 200 and remembers the Authorization header of each request. */
export async function echoServer(): Promise<{ url: string; seen: { path: string; authorization: string | undefined }[] }> {
  const seen: { path: string; authorization: string | undefined }[] = [];
  const url = await serve((req, res) => {
    const headers: IncomingHttpHeaders = req.headers;
    seen.push({ path: req.url ?? '', authorization: headers.authorization });
    res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
  });
  return { url, seen };
}

export function track<T extends () => Promise<void>>(close: T): void {
  open.push(close);
}

export async function cleanup(): Promise<void> {
  const closers = open.splice(0);
  await Promise.all(closers.map((close) => close().catch(() => undefined)));
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What `make` throws, or undefined when it returns: for assertions on a thrown error's fields. */
export function thrownBy(make: () => unknown): unknown {
  try {
    make();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** Settle a promise into a value or the error, for assertions on either. */
export function settle<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

export { axios };
