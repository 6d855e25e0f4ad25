// A real HTTP token server and API on 127.0.0.1 that speaks CrowdStrike, OneLogin or plain OAuth 2.0,
// with knobs for the failures a long-running client meets, and counters for everything it saw.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseCloud } from '../providers/crowdstrike';
import { DIALECTS, type Dialect, type DialectName, type Reply, type SimRequest } from './dialects';
import { emptyStats, type SimulatorStats, type TokenCallRecord, type TokenIssuance } from './stats';
import { applyFault, delay, readRequest, send, type Fault } from './wire';

export type { Fault } from './wire';
export type { SimulatorStats, TokenCallRecord, TokenIssuance } from './stats';

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

interface IssuedToken extends TokenIssuance {
  readonly client: string;
  revoked: boolean;
}


export class Simulator {
  readonly dialectName: DialectName;
  readonly clientId: string;
  readonly clientSecret: string;
  stats: SimulatorStats = emptyStats();
  /** Seconds a new token lives. */
  tokenLifetimeSeconds: number;
  latencyMs: number;
  apiLatencyMs: number;
  /** CrowdStrike: refuse every token call as an IP allowlist would (403 `access denied`). */
  denyAccess = false;
  /** The server's clock minus ours; change it to move the server's clock alone. */
  clockOffsetMs: number;
  readonly #dialect: Dialect;
  readonly #options: SimulatorOptions;
  readonly #servers = new Map<string, { server: Server; url: string }>();
  readonly #tokens = new Map<string, IssuedToken>();
  /** OneLogin-style reuse: the live token per client. */
  readonly #reusable = new Map<string, string>();
  readonly #tokenFaults: Fault[] = [];
  readonly #revokeFaults: Fault[] = [];
  readonly #hung = new Set<ServerResponse>();
  #faultPolicy: ((call: number) => Fault | undefined) | undefined;
  #active = 0;

  private constructor(options: SimulatorOptions) {
    this.#options = options;
    this.dialectName = options.dialect;
    this.#dialect = DIALECTS[options.dialect];
    if (!this.#dialect) throw new TypeError(`startSimulator: unknown dialect ${JSON.stringify(options.dialect)}`);
    // CrowdStrike client ids are 32 hex characters; the others are free-form.
    this.clientId = options.clientId ?? (options.dialect === 'crowdstrike' ? randomBytes(16).toString('hex') : `sim-${options.dialect}-client`);
    this.clientSecret = options.clientSecret ?? `sim-${options.dialect}-secret-${randomBytes(6).toString('hex')}`;
    this.tokenLifetimeSeconds = options.tokenLifetimeSeconds ?? this.#dialect.defaultLifetimeSeconds;
    this.latencyMs = options.latencyMs ?? 0;
    this.apiLatencyMs = options.apiLatencyMs ?? 0;
    this.clockOffsetMs = options.clockOffsetMs ?? 0;
  }

  static async start(options: SimulatorOptions): Promise<Simulator> {
    const sim = new Simulator(options);
    for (const region of options.regions ?? ['default']) {
      const server = createServer((req, res) => void sim.#handle(req, res, region));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
      const { port } = server.address() as AddressInfo;
      sim.#servers.set(region, { server, url: `http://127.0.0.1:${port}` });
    }
    return sim;
  }

  /** Base URL of the first (or only) listener. */
  get url(): string {
    return [...this.#servers.values()][0]!.url;
  }

  urlFor(region: string): string {
    const entry = this.#servers.get(region);
    if (!entry) throw new TypeError(`simulator has no region ${region}`);
    return entry.url;
  }

  get tokenUrl(): string {
    return this.url + this.#dialect.tokenPath;
  }

  get revokeUrl(): string {
    return this.url + this.#dialect.revokePath;
  }

  /** The server's clock. */
  now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  /** The next `count` token calls get `fault`. */
  failNext(count: number, fault: Fault): void {
    for (let i = 0; i < count; i++) this.#tokenFaults.push(fault);
  }

  failNextRevoke(count: number, fault: Fault): void {
    for (let i = 0; i < count; i++) this.#revokeFaults.push(fault);
  }

  /** Decide each token call's fault (after `failNext`'s queue): seeded chaos. */
  setFaultPolicy(policy: ((call: number) => Fault | undefined) | undefined): void {
    this.#faultPolicy = policy;
  }

  /** Revoke every live token server side, as an admin would. Returns how many. */
  revokeAll(): number {
    let count = 0;
    for (const token of this.#tokens.values()) {
      if (!token.revoked && token.expiresAt > this.now()) {
        token.revoked = true;
        count++;
      }
    }
    this.#reusable.clear();
    this.stats.tokensRevoked += count;
    return count;
  }

  /** Revoke one token server side. Returns whether it was live. */
  revoke(token: string): boolean {
    if (!this.isLive(token)) return false;
    this.#markRevoked(token, this.#tokens.get(token)!);
    return true;
  }

  #markRevoked(token: string, issued: IssuedToken): void {
    issued.revoked = true;
    this.stats.tokensRevoked++;
    if (this.#reusable.get(issued.client) === token) this.#reusable.delete(issued.client);
  }

  /** When `token` was issued, or undefined if we never issued it. */
  issuance(token: string): TokenIssuance | undefined {
    const issued = this.#tokens.get(token);
    return issued && { sequence: issued.sequence, issuedAt: issued.issuedAt, expiresAt: issued.expiresAt };
  }

  /** Whether `token` is one we issued that is neither expired nor revoked. */
  isLive(token: string): boolean {
    const issued = this.#tokens.get(token);
    return issued !== undefined && !issued.revoked && issued.expiresAt > this.now();
  }

  /** Answer the token calls that are hanging (`'hang'`, `'drip'`) by dropping them. */
  releaseHung(): void {
    for (const res of this.#hung) res.destroy();
    this.#hung.clear();
  }

  resetStats(): void {
    this.stats = emptyStats();
  }

  async close(): Promise<void> {
    this.releaseHung();
    await Promise.all([...this.#servers.values()].map(({ server }) => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    })));
  }

  /** The cloud the credentials belong to (CrowdStrike). */
  get #home(): string {
    return this.#options.homeRegion ?? this.#options.regions?.[0] ?? 'us-1';
  }

  /** Requests that arrived and are not answered yet (including those held by a latency). */
  get activeRequests(): number {
    return this.#active;
  }

  async #handle(req: IncomingMessage, res: ServerResponse, region: string): Promise<void> {
    this.#active++;
    res.once('close', () => this.#active--);
    try {
      const request = await readRequest(req);
      const dialect = this.#dialect;
      if (request.method === 'POST' && request.path === dialect.tokenPath) return await this.#token(request, res);
      if (request.method === 'POST' && request.path === dialect.revokePath) return await this.#revoke(request, res);
      return await this.#api(request, res, region);
    } catch {
      if (!res.headersSent) this.#send(res, this.#dialect.error(500, 'simulator failure'));
    }
  }

  async #token(request: SimRequest, res: ServerResponse): Promise<void> {
    const stats = this.stats;
    stats.tokenCalls++;
    const record: TokenCallRecord = { at: this.now(), status: 'pending' };
    stats.tokenCallLog.push(record);
    const fault = this.#tokenFaults.shift() ?? this.#faultPolicy?.(stats.tokenCalls);
    if (fault === 429 || (typeof fault === 'object' && 'rateLimitSeconds' in fault)) record.retryAfterMs = fault === 429 ? 1000 : fault.rateLimitSeconds * 1000;
    res.once('finish', () => (record.status = res.statusCode));
    res.once('close', () => {
      if (record.status === 'pending') record.status = fault === 'hang' || fault === 'drip' ? 'hang' : 'reset';
    });
    if (await this.#fault(fault, res)) return;
    await delay(this.latencyMs / 2);
    const d = this.#dialect;
    const claim = d.tokenClaim(request);
    if (claim.problem) return this.#send(res, d.error(400, claim.problem));
    if (this.denyAccess) return this.#send(res, d.error(403, 'access denied, authorization failed'));
    if (claim.clientId !== this.clientId || claim.clientSecret !== this.clientSecret) {
      if (this.dialectName === 'crowdstrike' && claim.clientId && claim.clientId !== this.clientId && !/^[a-z0-9]+$/i.test(claim.clientId)) {
        return this.#send(res, d.error(400, `Failed to generate access token for clientID=${claim.clientId}.`));
      }
      return this.#send(res, d.badCredentials());
    }
    const allowed = this.#options.memberCids;
    if (claim.memberCid && allowed && !allowed.includes(claim.memberCid)) {
      return this.#send(res, d.error(403, `Failed to generate access token for customer ID=${claim.memberCid}.`));
    }
    const client = `${claim.clientId}|${claim.memberCid ?? ''}`;
    const now = this.now();
    let token = d.reusesTokens ? this.#reusable.get(client) : undefined;
    let expiresIn = this.tokenLifetimeSeconds;
    const reused = token === undefined ? undefined : this.#tokens.get(token);
    if (token !== undefined && reused && !reused.revoked && reused.expiresAt - now >= 1000) {
      // Same token until it expires; the remaining lifetime, the harder case for a client.
      expiresIn = Math.floor((reused.expiresAt - now) / 1000);
    } else {
      token = `${this.dialectName.slice(0, 2)}_${randomBytes(24).toString('base64url')}`;
      stats.tokensIssued++;
      const issuedAt = this.#options.roundIssuedAt ? Math.floor(now / 1000) * 1000 : now;
      this.#tokens.set(token, { client, sequence: stats.tokensIssued, issuedAt, expiresAt: issuedAt + expiresIn * 1000, revoked: false });
      if (d.reusesTokens) this.#reusable.set(client, token);
    }
    const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
    if (this.dialectName === 'crowdstrike') {
      headers['X-Cs-Region'] = this.#home;
      headers['X-Ratelimit-Limit'] = '300';
    }
    const reply = { status: d.successStatus, body: d.tokenBody(token, expiresIn, now, claim.scope), headers };
    await delay(this.latencyMs / 2);
    this.#send(res, reply);
  }

  async #revoke(request: SimRequest, res: ServerResponse): Promise<void> {
    this.stats.revokeCalls++;
    if (await this.#fault(this.#revokeFaults.shift(), res)) return;
    await delay(this.latencyMs);
    const d = this.#dialect;
    const claim = d.revokeClaim(request);
    if (claim.clientId !== this.clientId || claim.clientSecret !== this.clientSecret) {
      return this.#send(res, this.dialectName === 'crowdstrike' ? d.error(403, 'access denied, authorization failed') : d.badCredentials());
    }
    if (claim.problem || claim.token === undefined) return this.#send(res, d.error(400, claim.problem ?? 'token missing'));
    const issued = this.#tokens.get(claim.token);
    if (issued && !issued.revoked) this.#markRevoked(claim.token, issued);
    // RFC 7009: 200 even for tokens it does not know.
    this.#send(res, { status: 200, body: d.revokeOk() });
  }

  async #api(request: SimRequest, res: ServerResponse, region: string): Promise<void> {
    const stats = this.stats;
    stats.apiCalls++;
    await delay(this.apiLatencyMs);
    const bearer = /^bearer[:\s]\s*(\S+)$/i.exec(request.headers['authorization'] ?? '')?.[1];
    const issued = bearer === undefined ? undefined : this.#tokens.get(bearer);
    let refused = true;
    if (bearer === undefined) stats.missingTokenSends++;
    else if (issued === undefined) stats.unknownTokenSends++;
    else if (issued.expiresAt <= this.now()) stats.expiredTokenSends++;
    else if (issued.revoked) stats.revokedTokenSends++;
    // Several clouds: credentials (and their tokens) belong to the home one only.
    else if (this.#options.regions !== undefined && cloudOf(region) !== cloudOf(this.#home)) stats.wrongRegionSends++;
    else refused = false;
    if (refused) {
      stats.api401++;
      stats.api401Times.push(this.now());
      return this.#send(res, this.#dialect.unauthorized(request.path));
    }
    stats.apiOk++;
    this.#send(res, { status: 200, body: { meta: { path: request.path }, resources: [] } });
  }

  #send(res: ServerResponse, reply: Reply): void {
    send(res, reply, this.now());
  }

  #fault(fault: Fault | undefined, res: ServerResponse): Promise<boolean> {
    return applyFault(fault, res, { dialect: this.#dialect, now: this.now(), hung: this.#hung });
  }
}

/** A cloud, however it is spelled (`us-gov-1`, `usgov1`, `GOV1`). */
function cloudOf(region: string): string {
  return parseCloud(region) ?? region;
}

export function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  return Simulator.start(options);
}
