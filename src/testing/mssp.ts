// CrowdStrike MSSP (Flight Control): a parent's credentials mint a token per child (`member_cid`);
// each token acts for one CID, and every answer the API gives it says which (`meta.cid` and the
// simulator's own `X-Sim-Cid` header); a request that names another CID (`X-Sim-Cid`) is refused
// 403. The parent's own token lists the children: GET /mssp/queries/children/v1 (`offset`,
// `limit`, `meta.pagination`); a child's token gets 403 there.
import { randomBytes } from 'node:crypto';
import { formOf, type Reply, type SimRequest } from './dialect';
import { csError, csMeta } from './dialects/crowdstrike';
import type { SimulatorStats, TokenCallRecord, TokenIssuance } from './stats';

export const CHILDREN_PATH = '/mssp/queries/children/v1';
/** The request header that names the CID a request acts for, and the answer's header that says whose token it was. */
export const CID_HEADER = 'X-Sim-Cid';
const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 5000;

const forbidden = () => csError(403, 'access denied, authorization failed');

export class FlightControl {
  /** The CID the credentials belong to (the parent's). */
  readonly cid: string;
  /** The children the credentials may act for; undefined: any CID, none listed. */
  readonly children: readonly string[] | undefined;

  constructor(cid: string | undefined, children: readonly string[] | undefined) {
    // CrowdStrike CIDs are 32 hex digits.
    this.cid = cid ?? randomBytes(16).toString('hex').toUpperCase();
    this.children = children;
  }

  /** Note the child a token call asks for, in its record and the per-member count. */
  noteTokenCall(request: SimRequest, record: TokenCallRecord, stats: SimulatorStats): void {
    const member = formOf(request)?.get('member_cid') || undefined;
    if (member === undefined) return;
    record.memberCid = member;
    stats.tokenCallsByMember[member] = (stats.tokenCallsByMember[member] ?? 0) + 1;
  }

  /** The answer to an API request whose token was accepted, counted in `apiOk` or `apiForbidden`. */
  answer(request: SimRequest, issuance: TokenIssuance, stats: SimulatorStats): Reply {
    const reply = this.#answer(request, issuance);
    if (reply.status === 200) stats.apiOk++;
    else if (reply.status === 403) stats.apiForbidden++;
    return reply;
  }

  #answer(request: SimRequest, issuance: TokenIssuance): Reply {
    const cid = issuance.memberCid ?? this.cid;
    const named = request.headers[CID_HEADER.toLowerCase()];
    if (named !== undefined && named.toLowerCase() !== cid.toLowerCase()) return forbidden();
    const headers = { [CID_HEADER]: cid };
    if (request.path !== CHILDREN_PATH || request.method !== 'GET')
      return { status: 200, body: { meta: { ...csMeta(), path: request.path, cid }, resources: [], errors: [] }, headers };
    if (issuance.memberCid !== undefined) return forbidden();
    const page = pageOf(request.query ?? new URLSearchParams());
    if (typeof page === 'string') return csError(400, page);
    const children = this.children ?? [];
    const resources = children.slice(page.offset, page.offset + page.limit);
    const pagination = { offset: page.offset, limit: page.limit, total: children.length };
    return { status: 200, body: { meta: { ...csMeta(), pagination, cid }, resources, errors: [] }, headers };
  }
}

/** `offset` (default 0) and `limit` (default 10, at most 5000), or what is wrong with them. */
function pageOf(query: URLSearchParams): { offset: number; limit: number } | string {
  const read = (name: string, fallback: number, min: number, max: number) => {
    const text = query.get(name);
    if (text === null) return fallback;
    const value = /^\d+$/.test(text) ? Number(text) : NaN;
    return value >= min && value <= max ? value : `${name} must be an integer from ${min} to ${max}`;
  };
  const offset = read('offset', 0, 0, Number.MAX_SAFE_INTEGER);
  const limit = read('limit', DEFAULT_LIMIT, 1, MAX_LIMIT);
  if (typeof offset === 'string') return offset;
  if (typeof limit === 'string') return limit;
  return { offset, limit };
}
