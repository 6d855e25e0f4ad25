// A real HTTP token server and API on 127.0.0.1 that speaks CrowdStrike, OneLogin or plain OAuth 2.0,
// with knobs for the failures a long-running client meets, and counters for everything it saw.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ClientVerifier } from './client-auth';
import type { ClaimOptions, ClientClaim, Reply, ServerDialect, SimRequest } from './dialect';
import { DIALECTS, type DialectName } from './dialects';
import { DpopVerifier } from './dpop';
import { apiAnswer } from './api';
import { EndpointBudget } from './budget';
import { FlightControl } from './mssp';
import { close, listenAll, type Listener } from './listeners';
import { cloudOf } from './regions';
import { targetRefusal } from './resources';
import { checkSimulatorOptions, type SimulatorOptions } from './options';
import { emptyStats, type RevokeCallRecord, type SimulatorStats, type TokenCallRecord, type TokenIssuance } from './stats';
import { TokenRegistry, type Minting } from './tokens';
import { applyFault, delay, readRequest, send, type Fault } from './wire';

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
  /** CrowdStrike: the CID the credentials belong to (the parent of `memberCids`). */
  readonly cid: string | undefined;
  readonly #dialect: ServerDialect;
  readonly #options: SimulatorOptions;
  #servers = new Map<string, Listener>();
  readonly #tokens: TokenRegistry;
  readonly #tokenFaults: Fault[] = [];
  readonly #revokeFaults: Fault[] = [];
  readonly #hung = new Set<ServerResponse>();
  readonly #clients: ClientVerifier;
  readonly #dpop: DpopVerifier;
  readonly #claimOptions: ClaimOptions;
  readonly #budget: EndpointBudget;
  readonly #flight: FlightControl | undefined;
  #faultPolicy: ((call: number) => Fault | undefined) | undefined;
  #active = 0;

  private constructor(options: SimulatorOptions) {
    checkSimulatorOptions(options);
    this.#options = options;
    this.dialectName = options.dialect;
    this.#dialect = DIALECTS[options.dialect];
    if (!this.#dialect) throw new TypeError(`startSimulator: unknown dialect ${JSON.stringify(options.dialect)}`);
    this.#tokens = new TokenRegistry(options.dialect.slice(0, 2));
    this.clientId = options.clientId ?? this.#dialect.newClientId();
    this.clientSecret = options.clientSecret ?? `sim-${options.dialect}-secret-${randomBytes(6).toString('hex')}`;
    this.tokenLifetimeSeconds = options.tokenLifetimeSeconds ?? this.#dialect.defaultLifetimeSeconds;
    this.latencyMs = options.latencyMs ?? 0;
    this.apiLatencyMs = options.apiLatencyMs ?? 0;
    this.clockOffsetMs = options.clockOffsetMs ?? 0;
    this.#clients = new ClientVerifier({ ...options, clientId: this.clientId, clientSecret: this.clientSecret });
    this.#dpop = new DpopVerifier(options.dpop, this);
    this.#claimOptions = { basicDecoding: options.basicDecoding ?? 'form' };
    this.#budget = EndpointBudget.for(options, this.#dialect);
    this.#flight = options.dialect === 'crowdstrike' ? new FlightControl(options.cid, options.memberCids) : undefined;
    this.cid = this.#flight?.cid;
  }

  static async start(options: SimulatorOptions): Promise<Simulator> {
    const sim = new Simulator(options);
    sim.#servers = await listenAll(options.regions ?? ['default'], (region) => (req, res) => void sim.#handle(req, res, region), options);
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

  /** DPoP nonce mode: the nonce proofs must carry now. */
  get dpopNonce(): string | undefined {
    return this.#dpop.nonce;
  }

  /** DPoP nonce mode: hand out a new nonce; proofs with the old one get `use_dpop_nonce`. */
  rotateDpopNonce(): string {
    if (this.#dpop.nonce === undefined) throw new TypeError('rotateDpopNonce: start the simulator with dpop: { nonce: true }');
    return this.#dpop.rotate();
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
    const count = this.#tokens.revokeAll(this.now());
    this.stats.tokensRevoked += count;
    return count;
  }

  /** Revoke one token server side. Returns whether it was live. */
  revoke(token: string): boolean {
    if (!this.isLive(token) || !this.#tokens.revoke(token)) return false;
    this.stats.tokensRevoked++;
    return true;
  }

  /** When `token` was issued, or undefined if we never issued it. */
  issuance(token: string): TokenIssuance | undefined {
    return this.#tokens.issuance(token);
  }

  /** Whether `token` is one we issued that is neither expired nor revoked. */
  isLive(token: string): boolean {
    return this.#tokens.refusal(token, this.now()) === undefined;
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
    await Promise.all([...this.#servers.values()].map(close));
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
      const base = this.urlFor(region);
      if (request.method === 'POST' && request.path === dialect.tokenPath) return await this.#token(request, res, base);
      if (request.method === 'POST' && request.path === dialect.revokePath) return await this.#revoke(request, res, base);
      return await this.#api(request, res, region);
    } catch {
      if (!res.headersSent) this.#send(res, this.#dialect.error(500, 'simulator failure'));
    }
  }

  /** The token route: faults first, then authorize, issue, reply (half the latency either side of the issue). */
  async #token(request: SimRequest, res: ServerResponse, base: string): Promise<void> {
    const stats = this.stats;
    stats.tokenCalls++;
    const certificate = request.clientCertificate?.thumbprint;
    const record: TokenCallRecord = { at: this.now(), status: 'pending', ...(certificate !== undefined && { clientCertificate: certificate }) };
    stats.tokenCallLog.push(record);
    this.#flight?.noteTokenCall(request, record, stats);
    res.once('finish', () => (record.status = res.statusCode));
    if (!this.#budget.admit('token', request, res, record.at, stats, record)) return;
    const fault = this.#tokenFaults.shift() ?? this.#faultPolicy?.(stats.tokenCalls);
    if (fault === 429 || (typeof fault === 'object' && 'rateLimitSeconds' in fault)) record.retryAfterMs = fault === 429 ? 1000 : fault.rateLimitSeconds * 1000;
    res.once('close', () => {
      if (record.status === 'pending') record.status = fault === 'hang' || fault === 'drip' ? 'hang' : 'reset';
    });
    if (await this.#fault(fault, res)) return;
    await delay(this.latencyMs / 2);
    const proof = this.#dpop.atToken(request, base + this.#dialect.tokenPath);
    Object.assign(record, proof.record && { dpop: proof.record }, proof.refusal && { refusal: proof.refusal });
    if (proof.reply) return this.#send(res, proof.reply);
    const claim = this.#dialect.tokenClaim(request, this.#claimOptions);
    if (claim.resources) record.resources = claim.resources;
    const refused = this.#authorize(claim, record, base, request);
    if (refused !== undefined) return this.#send(res, refused);
    // RFC 8705 §3: a token issued over a connection that presented a certificate is bound to it.
    const reply = this.#issue(claim, base, proof.jkt, certificate);
    await delay(this.latencyMs / 2);
    this.#send(res, reply);
  }

  /** Why the token call is refused, or undefined when the claim is good. */
  #authorize(claim: ClientClaim, record: TokenCallRecord, base: string, request: SimRequest): Reply | undefined {
    const d = this.#dialect;
    if (claim.problem) return d.error(400, claim.problem);
    if (this.denyAccess) return d.accessDenied();
    const { refusal } = this.#clients.check(claim, this.now(), [base + d.tokenPath, base], record, request.clientCertificate);
    if (refusal !== undefined) return d.badCredentials(claim.clientId, claim.via && refusal);
    const target = targetRefusal(claim.resources, this.#options.resources);
    if (target !== undefined) {
      record.refusal = target;
      return d.error(400, 'invalid_target');
    }
    const allowed = this.#options.memberCids;
    if (claim.memberCid && allowed && !allowed.includes(claim.memberCid)) return d.memberRefused(claim.memberCid);
    return undefined;
  }

  /** A token for the claim: the one it already has, where the dialect hands that back, or a new one. */
  #issue(claim: ClientClaim, base: string, jkt: string | undefined, x5t: string | undefined): Reply {
    const d = this.#dialect;
    const o = this.#options;
    const client = `${claim.clientId}|${claim.memberCid ?? ''}`;
    const now = this.now();
    let issued = d.reusesTokens ? this.#tokens.reusableFor(client, now) : undefined;
    if (issued === undefined) {
      const issuedAt = o.roundIssuedAt ? Math.floor(now / 1000) * 1000 : now;
      const minting: Minting = { jkt, x5t, member: claim.memberCid, jwt: o.jwtAccessTokens ? { issuer: base, ...claim } : undefined };
      const token = this.#tokens.issue(client, ++this.stats.tokensIssued, issuedAt, this.tokenLifetimeSeconds, d.reusesTokens, minting);
      issued = { token, expiresIn: this.tokenLifetimeSeconds };
    }
    const headers = { 'Cache-Control': 'no-store', ...d.tokenHeaders(this.#home), ...this.#dpop.headers() };
    const extras = {
      tokenType: jkt === undefined ? ('Bearer' as const) : ('DPoP' as const),
      omitExpiresIn: o.omitExpiresIn ?? false,
      refreshIn: o.refreshInSeconds,
    };
    return { status: d.successStatus, body: d.tokenBody(issued.token, issued.expiresIn, now, claim.scope, extras), headers };
  }

  async #revoke(request: SimRequest, res: ServerResponse, base: string): Promise<void> {
    this.stats.revokeCalls++;
    const certificate = request.clientCertificate?.thumbprint;
    const record: RevokeCallRecord = { at: this.now(), status: 'pending', ...(certificate !== undefined && { clientCertificate: certificate }) };
    this.stats.revokeCallLog.push(record);
    res.once('finish', () => (record.status = res.statusCode));
    res.once('close', () => record.status === 'pending' && (record.status = 'reset'));
    if (!this.#budget.admit('revoke', request, res, record.at, this.stats, record)) return;
    if (await this.#fault(this.#revokeFaults.shift(), res)) return;
    await delay(this.latencyMs);
    const d = this.#dialect;
    const claim = d.revokeClaim(request, this.#claimOptions);
    const { refusal } = this.#clients.check(claim, this.now(), [base + d.tokenPath, base], record, request.clientCertificate);
    if (refusal !== undefined) return this.#send(res, d.revokeRefused(claim.via && refusal));
    if (claim.problem || claim.token === undefined) return this.#send(res, d.error(400, claim.problem ?? 'token missing'));
    if (this.#tokens.revoke(claim.token)) this.stats.tokensRevoked++;
    // RFC 7009: 200 even for tokens it does not know.
    this.#send(res, { status: 200, body: d.revokeOk() });
  }

  async #api(request: SimRequest, res: ServerResponse, region: string): Promise<void> {
    const stats = this.stats;
    stats.apiCalls++;
    await delay(this.apiLatencyMs);
    const wrongRegion = this.#options.regions !== undefined && cloudOf(region) !== cloudOf(this.#home);
    const context = { tokens: this.#tokens, dpop: this.#dpop, dialect: this.#dialect, stats, now: this.now(), url: this.urlFor(region), wrongRegion };
    this.#send(res, apiAnswer(request, { ...context, tls: this.#options.tls !== undefined, flight: this.#flight }));
  }

  #send(res: ServerResponse, reply: Reply): void {
    send(res, reply, this.now());
  }

  #fault(fault: Fault | undefined, res: ServerResponse): Promise<boolean> {
    return applyFault(fault, res, { dialect: this.#dialect, now: this.now(), hung: this.#hung });
  }
}

export function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  return Simulator.start(options);
}
