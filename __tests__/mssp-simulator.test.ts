// The simulator's CrowdStrike MSSP (Flight Control) model over real HTTP on 127.0.0.1: a token per
// child (member_cid) that acts for that child only, the children listing with the parent's token,
// and the per-source-IP token-endpoint budget (a sliding 60 s window on the server's clock).
import { TokenManager, crowdstrike, type TokenError } from '../src';
import { startSimulator, type Simulator, type SimulatorOptions } from '../src/testing';
import { installFakeTime, type FakeTime } from './helpers/fake-time';
import { axios, cleanup, settle, track } from './helpers/setup';

afterEach(cleanup);

const PARENT = 'F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0';
const CHILD_A = 'A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1';
const CHILD_B = 'B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2';
const CHILD_C = 'C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3';
const STRANGER = 'DEADBEEFDEADBEEFDEADBEEFDEADBEEF';
const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const DEVICES = '/devices/queries/devices/v1';
const CHILDREN = '/mssp/queries/children/v1';

async function simulator(options: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  const sim = await startSimulator({ dialect: 'crowdstrike', cid: PARENT, memberCids: [CHILD_A, CHILD_B, CHILD_C], ...options });
  track(() => sim.close());
  return sim;
}

/** A manager and an attached axios instance for the parent (no memberCid) or one child. */
function tenant(sim: Simulator, memberCid?: string) {
  const provider = crowdstrike({ clientId: sim.clientId, clientSecret: sim.clientSecret, baseUrl: sim.url, ...(memberCid !== undefined && { memberCid }) });
  const tokens = new TokenManager({ provider, retry: { retries: 1, minTimeout: 5, maxTimeout: 5 } });
  track(() => tokens.dispose({ revoke: false }));
  const api = axios.create({ validateStatus: () => true });
  tokens.attach(api);
  return { tokens, api };
}

/** A token call on the wire, answered whatever its status. */
function tokenCall(sim: Simulator, fields: Record<string, string> = {}) {
  const body = new URLSearchParams({ client_id: sim.clientId, client_secret: sim.clientSecret, ...fields }).toString();
  return axios.post(sim.tokenUrl, body, { headers: FORM, validateStatus: () => true });
}

function revokeCall(sim: Simulator, token: string) {
  const basic = Buffer.from(`${sim.clientId}:${sim.clientSecret}`).toString('base64');
  return axios.post(sim.revokeUrl, new URLSearchParams({ token }).toString(), {
    headers: { ...FORM, Authorization: `basic ${basic}` },
    validateStatus: () => true,
  });
}

function apiCall(sim: Simulator, path: string, token: string, headers: Record<string, string> = {}) {
  return axios.get(sim.url + path, { headers: { Authorization: `Bearer ${token}`, ...headers }, validateStatus: () => true });
}

/** The budget's headers of an answer, as numbers. */
const budgetOf = (headers: Record<string, unknown>) => ({
  limit: Number(headers['x-ratelimit-limit']),
  remaining: Number(headers['x-ratelimit-remaining']),
});

describe('MSSP children: a token per child, acting for that child only', () => {
  test("each child's token is that child's: the API names its CID, and refuses it for another CID", async () => {
    const sim = await simulator();
    const a = tenant(sim, CHILD_A);
    const b = tenant(sim, CHILD_B);
    const parent = tenant(sim);
    const [answerA, answerB, answerParent] = await Promise.all([a.api.get(DEVICES), b.api.get(DEVICES), parent.api.get(DEVICES)]);
    expect([answerA.status, answerB.status, answerParent.status]).toEqual([200, 200, 200]);
    expect(answerA.data.meta.cid).toBe(CHILD_A);
    expect(answerA.headers['x-sim-cid']).toBe(CHILD_A);
    expect(answerB.data.meta.cid).toBe(CHILD_B);
    expect(answerParent.data.meta.cid).toBe(PARENT);
    expect(sim.cid).toBe(PARENT);

    const [tokenA, tokenB] = await Promise.all([a.tokens.getToken(), b.tokens.getToken()]);
    expect(tokenA).not.toBe(tokenB);
    expect(sim.issuance(tokenA)?.memberCid).toBe(CHILD_A);
    expect(sim.issuance(tokenB)?.memberCid).toBe(CHILD_B);
    expect(sim.issuance(await parent.tokens.getToken())?.memberCid).toBeUndefined();

    // A's token on behalf of A is fine; on behalf of B (or the parent) it is refused.
    expect((await apiCall(sim, DEVICES, tokenA, { 'X-Sim-Cid': CHILD_A.toLowerCase() })).data.meta.cid).toBe(CHILD_A);
    const crossed = await a.api.get(DEVICES, { headers: { 'X-Sim-Cid': CHILD_B } });
    expect(crossed.status).toBe(403);
    expect(crossed.data.errors).toEqual([{ code: 403, message: 'access denied, authorization failed' }]);
    expect((await apiCall(sim, DEVICES, tokenA, { 'X-Sim-Cid': PARENT })).status).toBe(403);
    expect((await apiCall(sim, DEVICES, tokenB, { 'X-Sim-Cid': CHILD_B })).data.meta.cid).toBe(CHILD_B);
    expect(sim.stats.apiForbidden).toBe(2);
    expect(sim.stats.api401).toBe(0);

    expect(sim.stats.tokenCallsByMember).toEqual({ [CHILD_A]: 1, [CHILD_B]: 1 });
    expect(sim.stats.tokenCallLog.map((call) => call.memberCid ?? 'parent').sort()).toEqual([CHILD_A, CHILD_B, 'parent'].sort());
  });

  test('a CID that is not a child: TokenError forbidden, and the children keep their tokens', async () => {
    const sim = await simulator();
    const a = tenant(sim, CHILD_A);
    const tokenA = await a.tokens.getToken();
    const stranger = tenant(sim, STRANGER);
    const outcome = await settle(stranger.tokens.getToken());
    expect(outcome.ok).toBe(false);
    const error = (outcome as { error: TokenError }).error;
    expect(error.code).toBe('forbidden');
    expect(error.providerMessage).toBe(`Failed to generate access token for customer ID=${STRANGER}.`);
    expect(sim.stats.tokenCallsByMember[STRANGER]).toBeGreaterThanOrEqual(1);
    expect(sim.stats.tokenCallLog.filter((call) => call.memberCid === STRANGER).map((call) => call.status)).toEqual(
      Array(sim.stats.tokenCallsByMember[STRANGER]).fill(403),
    );
    expect(sim.stats.tokensIssued).toBe(1);
    // A is untouched: the same token, still live, still A's.
    expect(await a.tokens.getToken()).toBe(tokenA);
    expect(sim.isLive(tokenA)).toBe(true);
    const answer = await a.api.get(DEVICES);
    expect(answer.status).toBe(200);
    expect(answer.data.meta.cid).toBe(CHILD_A);
    expect(sim.stats.tokenCallsByMember[CHILD_A]).toBe(1);
  });

  test('without memberCids any CID may be asked for (and gets a token acting for it); none is listed', async () => {
    const sim = await simulator({ memberCids: undefined });
    const someone = tenant(sim, STRANGER);
    const answer = await someone.api.get(DEVICES);
    expect(answer.status).toBe(200);
    expect(answer.data.meta.cid).toBe(STRANGER);
    const listing = await tenant(sim).api.get(CHILDREN);
    expect(listing.status).toBe(200);
    expect(listing.data.resources).toEqual([]);
    expect(listing.data.meta.pagination).toEqual({ offset: 0, limit: 10, total: 0 });
  });

  test('a CID of 32 hex digits by default, and the MSSP options are for the crowdstrike dialect only', async () => {
    const sim = await startSimulator({ dialect: 'crowdstrike' });
    track(() => sim.close());
    expect(sim.cid).toMatch(/^[0-9A-F]{32}$/);
    await expect(startSimulator({ dialect: 'onelogin', tokenBudgetPerMinute: 10 })).rejects.toThrow(/tokenBudgetPerMinute is for the crowdstrike dialect only/);
    await expect(startSimulator({ dialect: 'oauth2', cid: PARENT })).rejects.toThrow(/cid is for the crowdstrike dialect only/);
    await expect(startSimulator({ dialect: 'crowdstrike', tokenBudgetPerMinute: 0 })).rejects.toThrow(/positive integer/);
    await expect(startSimulator({ dialect: 'crowdstrike', tokenBudgetPerMinute: 2.5 })).rejects.toThrow(/positive integer/);
    await expect(startSimulator({ dialect: 'crowdstrike', tokenBudgetPerMinute: Infinity })).rejects.toThrow(/positive integer/);
  });
});

describe('the children listing: GET /mssp/queries/children/v1', () => {
  const CHILDREN_25 = Array.from({ length: 25 }, (_, i) => `${String(i).padStart(2, '0')}${'C'.repeat(30)}`);

  test("the parent's token lists the children page by page (offset, limit, meta.pagination); a child's token gets 403", async () => {
    const sim = await simulator({ memberCids: CHILDREN_25 });
    const parent = tenant(sim);
    const first = await parent.api.get(CHILDREN);
    expect(first.status).toBe(200);
    expect(first.data.errors).toEqual([]);
    expect(first.data.resources).toEqual(CHILDREN_25.slice(0, 10)); // limit defaults to 10
    expect(first.data.meta).toMatchObject({ pagination: { offset: 0, limit: 10, total: 25 }, powered_by: 'csam' });
    expect(first.data.meta.trace_id).toEqual(expect.any(String));

    const seen: string[] = [];
    const pages: number[] = [];
    for (let offset = 0; offset < 25; offset += 7) {
      const page = await parent.api.get(CHILDREN, { params: { offset, limit: 7 } });
      expect(page.data.meta.pagination).toEqual({ offset, limit: 7, total: 25 });
      pages.push(page.data.resources.length);
      seen.push(...page.data.resources);
    }
    expect(pages).toEqual([7, 7, 7, 4]);
    expect(seen).toEqual(CHILDREN_25);
    expect((await parent.api.get(CHILDREN, { params: { offset: 20, limit: 100 } })).data.resources).toEqual(CHILDREN_25.slice(20));
    expect((await parent.api.get(CHILDREN, { params: { offset: 30 } })).data.resources).toEqual([]);

    for (const params of [{ limit: 0 }, { limit: 'ten' }, { limit: 5001 }, { offset: -1 }]) {
      const bad = await parent.api.get(CHILDREN, { params });
      expect([bad.status, bad.data.errors[0].code]).toEqual([400, 400]);
    }

    const child = tenant(sim, CHILDREN_25[3]);
    const refused = await child.api.get(CHILDREN);
    expect(refused.status).toBe(403);
    expect(refused.data.errors).toEqual([{ code: 403, message: 'access denied, authorization failed' }]);
    expect(refused.data.resources).toBeUndefined();
    expect(sim.stats.apiForbidden).toBe(1);
    // The child's token still works where it should.
    expect((await child.api.get(DEVICES)).data.meta.cid).toBe(CHILDREN_25[3]);
  });

  test('the listing needs a live token: a revoked parent token gets 401', async () => {
    const sim = await simulator();
    const token = (await tokenCall(sim)).data.access_token as string;
    expect((await apiCall(sim, CHILDREN, token)).data.resources).toEqual([CHILD_A, CHILD_B, CHILD_C]);
    expect(sim.revoke(token)).toBe(true);
    const refused = await apiCall(sim, CHILDREN, token);
    expect(refused.status).toBe(401);
    expect(sim.stats.revokedTokenSends).toBe(1);
  });
});

describe('the token-endpoint budget: a sliding 60 s window per source IP', () => {
  let time: FakeTime | undefined;
  afterEach(() => {
    time?.uninstall();
    time = undefined;
  });

  test('X-Ratelimit-Limit and X-Ratelimit-Remaining on every token answer, counting down through successes, refusals and 429s', async () => {
    const sim = await simulator({ tokenBudgetPerMinute: 4 });
    const answers = [
      await tokenCall(sim, { member_cid: CHILD_A }),
      await tokenCall(sim, { client_secret: 'wrong' }),
      await tokenCall(sim, { member_cid: STRANGER }),
      await tokenCall(sim),
      await tokenCall(sim, { member_cid: CHILD_B }),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([201, 403, 403, 201, 429]);
    expect(answers.map((answer) => budgetOf(answer.headers))).toEqual([
      { limit: 4, remaining: 3 },
      { limit: 4, remaining: 2 },
      { limit: 4, remaining: 1 },
      { limit: 4, remaining: 0 },
      { limit: 4, remaining: 0 },
    ]);
    expect(sim.stats.tokenRateLimited).toBe(1);
    expect(sim.stats.tokensIssued).toBe(2);
  });

  test('past the budget: 429 with X-Ratelimit-Retryafter (Unix seconds), and the window frees up as (fake) time passes', async () => {
    time = installFakeTime();
    const sim = await simulator({ tokenBudgetPerMinute: 5 });
    const t0 = Date.now();
    for (let i = 0; i < 3; i++) expect((await tokenCall(sim, { member_cid: CHILD_A })).status).toBe(201);
    time.clock.tick(20_000);
    for (let i = 0; i < 2; i++) expect((await tokenCall(sim, { member_cid: CHILD_B })).status).toBe(201);
    time.clock.tick(10_000); // t0 + 30 s: five calls in the window

    const limited = await tokenCall(sim, { member_cid: CHILD_C });
    expect(limited.status).toBe(429);
    expect(limited.data.errors[0].code).toBe(429);
    expect(budgetOf(limited.headers)).toEqual({ limit: 5, remaining: 0 });
    expect(Number(limited.headers['x-ratelimit-retryafter'])).toBe(Math.ceil((t0 + 60_000) / 1000));
    expect(sim.stats.tokenCallLog.at(-1)).toMatchObject({ status: 429, retryAfterMs: 30_000, memberCid: CHILD_C, source: expect.any(String) });

    time.clock.tick(29_999); // a ms before the oldest call leaves the window
    expect((await tokenCall(sim, { member_cid: CHILD_C })).status).toBe(429);
    time.clock.tick(1); // t0 + 60 s: the first three are out, the two of t0 + 20 s are in
    const freed = await tokenCall(sim, { member_cid: CHILD_C });
    expect(freed.status).toBe(201);
    expect(budgetOf(freed.headers)).toEqual({ limit: 5, remaining: 2 });
    expect((await apiCall(sim, DEVICES, freed.data.access_token)).data.meta.cid).toBe(CHILD_C);
    expect((await tokenCall(sim)).status).toBe(201);
    expect((await tokenCall(sim)).status).toBe(201);
    const again = await tokenCall(sim);
    expect(again.status).toBe(429);
    // The next room is when the calls of t0 + 20 s leave.
    expect(Number(again.headers['x-ratelimit-retryafter'])).toBe(Math.ceil((t0 + 80_000) / 1000));
    expect(sim.stats.tokenRateLimited).toBe(3);
    expect(sim.stats.tokensIssued).toBe(8);
  });

  test('revokes share the budget with token calls', async () => {
    const sim = await simulator({ tokenBudgetPerMinute: 3 });
    const token = (await tokenCall(sim)).data.access_token as string;
    const revoked = await revokeCall(sim, token);
    expect(revoked.status).toBe(200);
    expect(budgetOf(revoked.headers)).toEqual({ limit: 3, remaining: 1 });
    const second = (await tokenCall(sim)).data.access_token as string;
    const limited = await revokeCall(sim, second);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['x-ratelimit-retryafter'])).toBeGreaterThan(Date.now() / 1000);
    expect(sim.isLive(second)).toBe(true); // not revoked: the call was refused before it was read
    expect(sim.stats.revokeRateLimited).toBe(1);
    expect(sim.stats.tokenRateLimited).toBe(0);
    expect(sim.stats.revokeCallLog.map((call) => call.status)).toEqual([200, 429]);
    expect((await tokenCall(sim)).status).toBe(429);
  });

  test('without tokenBudgetPerMinute there is no budget: 310 calls in a minute are all answered, with the nominal X-Ratelimit-Limit: 300', async () => {
    const sim = await simulator({ tokenBudgetPerMinute: undefined });
    const answers = [];
    for (let i = 0; i < 310; i++) answers.push(await tokenCall(sim));
    expect(answers.filter((answer) => answer.status !== 201)).toEqual([]);
    expect(answers[309]!.headers['x-ratelimit-limit']).toBe('300');
    expect(answers[309]!.headers['x-ratelimit-remaining']).toBeUndefined();
    expect(sim.stats.tokenRateLimited).toBe(0);
    expect(sim.stats.peakTokenCallsPerMinute).toBe(310);
  });
});

describe('MSSP stats for benchmarks', () => {
  let time: FakeTime | undefined;
  afterEach(() => {
    time?.uninstall();
    time = undefined;
  });

  test('token calls per child, the 429 count, and the peak token calls in any 60 s', async () => {
    time = installFakeTime();
    const sim = await simulator({ tokenBudgetPerMinute: 3 });
    const statuses: number[] = [];
    for (const member of [CHILD_A, CHILD_A, CHILD_B, CHILD_C]) statuses.push((await tokenCall(sim, { member_cid: member })).status);
    time.clock.tick(30_000);
    statuses.push((await tokenCall(sim, { member_cid: CHILD_B })).status);
    time.clock.tick(31_000); // t0 + 61 s: only the call of t0 + 30 s is in the last 60 s
    statuses.push((await tokenCall(sim, { member_cid: CHILD_A })).status);
    statuses.push((await tokenCall(sim)).status);
    expect(statuses).toEqual([201, 201, 201, 429, 429, 201, 201]);
    expect(sim.stats.tokenCallsByMember).toEqual({ [CHILD_A]: 3, [CHILD_B]: 2, [CHILD_C]: 1 });
    expect(sim.stats.tokenRateLimited).toBe(2);
    expect(sim.stats.peakTokenCallsPerMinute).toBe(5); // the four of t0 and the one of t0 + 30 s, 429s included
    expect(sim.stats.tokenCallLog.map((call) => call.memberCid)).toEqual([CHILD_A, CHILD_A, CHILD_B, CHILD_C, CHILD_B, CHILD_A, undefined]);

    // resetStats starts the counts over, the peak too; the server's window is the server's.
    sim.resetStats();
    const next = await tokenCall(sim, { member_cid: CHILD_B });
    expect(next.status).toBe(201);
    expect(budgetOf(next.headers).remaining).toBe(0);
    expect(sim.stats.peakTokenCallsPerMinute).toBe(1);
    expect(sim.stats.tokenCallsByMember).toEqual({ [CHILD_B]: 1 });
  });
});
