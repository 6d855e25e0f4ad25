// TokenPool: a manager per key (a CrowdStrike MSSP's child CIDs here), made on first use, each its
// own identity, disposed when idle, all under one budget. Simulated time over real sockets.
import { ConfigError, TokenError, TokenPool, crowdstrike, tokenBudget } from '../src';
import { startSimulator, type Simulator } from '../src/testing';
import { useFakeTime } from './helpers/fake-time';
import { axios, cleanup, settle, track, thrownBy } from './helpers/setup';

const fake = useFakeTime(cleanup);
const CHILDREN = ['a1b2c3d4e5f60718293a4b5c6d7e8f90', 'b1b2c3d4e5f60718293a4b5c6d7e8f90', 'c1b2c3d4e5f60718293a4b5c6d7e8f90'];

async function mssp(options: { tokenLifetimeSeconds?: number } = {}): Promise<Simulator> {
  const sim = await startSimulator({ dialect: 'crowdstrike', memberCids: CHILDREN, ...options });
  track(() => sim.close());
  return sim;
}

function poolFor(sim: Simulator, options: Partial<ConstructorParameters<typeof TokenPool>[0]> = {}): TokenPool {
  const pool = new TokenPool({
    provider: (memberCid) => crowdstrike({ clientId: sim.clientId, clientSecret: sim.clientSecret, memberCid, baseUrl: sim.url }),
    retry: { retries: 1, minTimeout: 10, maxTimeout: 10 },
    ...options,
  });
  track(() => pool.dispose({ revoke: false }));
  return pool;
}

test('a child is made on first use and is the same manager after; each child has its own token', async () => {
  const sim = await mssp();
  const pool = poolFor(sim);
  const first = pool.get(CHILDREN[0]!);
  expect(pool.get(CHILDREN[0]!)).toBe(first);
  expect(pool.size).toBe(1);
  const tokens = await fake.now().run(Promise.all(CHILDREN.map((cid) => pool.get(cid).getToken())));
  expect(new Set(tokens).size).toBe(3);
  expect(pool.keys()).toEqual(CHILDREN);
  expect(sim.stats.tokenCalls).toBe(3);
});

test('events carry the key; a refused child fails alone with forbidden, and the others go on', async () => {
  const sim = await mssp();
  const pool = poolFor(sim);
  const seen: string[] = [];
  pool.on('refresh', (key, _token, reason) => seen.push(`${key.slice(0, 2)}:${reason}`));
  pool.on('error', (key, error) => seen.push(`${key.slice(0, 2)}:${error.code}`));
  const stranger = 'ffffffffffffffffffffffffffffffff';
  const outcome = await fake.now().run(settle(pool.get(stranger).getToken()));
  expect(outcome).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  await fake.now().run(pool.get(CHILDREN[0]!).getToken());
  expect(seen).toEqual(['ff:forbidden', 'a1:initial']);
});

test('an idle child is disposed, its token revoked, and made anew on its next use; a child in use stays', async () => {
  const sim = await mssp();
  const pool = poolFor(sim, { idleMs: 60_000 });
  const evicted: string[] = [];
  pool.on('evict', (key) => evicted.push(key));
  const [idle, busy] = [pool.get(CHILDREN[0]!), pool.get(CHILDREN[1]!)];
  await fake.now().run(Promise.all([idle.getToken(), busy.getToken()]));
  const api = axios.create();
  busy.attach(api);
  for (let second = 0; second < 120; second += 5) {
    await fake.now().run(api.get('/devices/queries/devices/v1'));
    await fake.now().advance(5_000, 1_000);
  }
  expect(evicted).toEqual([CHILDREN[0]]);
  expect(pool.keys()).toEqual([CHILDREN[1]]);
  expect(sim.stats.revokeCalls).toBe(1);
  const again = pool.get(CHILDREN[0]!);
  expect(again).not.toBe(idle);
  await fake.now().run(again.getToken());
  expect(sim.stats.tokenCalls).toBe(3);
});

test('children share one budget: 8 children at once with perMinute 5 make 5 token calls in the first minute', async () => {
  const sim = await startSimulator({ dialect: 'crowdstrike' }); // any member CID
  track(() => sim.close());
  const cids = Array.from({ length: 8 }, (_, i) => `${i}`.repeat(32));
  const pool = new TokenPool({
    provider: (memberCid) => crowdstrike({ clientId: sim.clientId, clientSecret: sim.clientSecret, memberCid, baseUrl: sim.url }),
    budget: tokenBudget({ perMinute: 5 }),
    refreshTimeoutMs: 120_000,
  });
  track(() => pool.dispose({ revoke: false }));
  const all = Promise.all(
    cids.map((cid) =>
      pool
        .get(cid)
        .getToken()
        .catch((error: TokenError) => error.code),
    ),
  );
  await fake.now().advance(50_000, 500);
  expect(sim.stats.tokenCalls).toBe(5);
  expect(new Set(await fake.now().run(all, 20_000, 500)).size).toBe(8);
  expect(sim.stats.tokenCalls).toBe(8);
});

test('dispose revokes every child, and get() afterwards is a TokenError disposed', async () => {
  const sim = await mssp();
  const pool = poolFor(sim);
  await fake.now().run(Promise.all(CHILDREN.map((cid) => pool.get(cid).getToken())));
  await fake.now().run(pool.dispose());
  expect(sim.stats.revokeCalls).toBe(3);
  expect(() => pool.get(CHILDREN[0]!)).toThrow(TokenError);
  expect(() => pool.get(CHILDREN[0]!)).toThrow(expect.objectContaining({ code: 'disposed' }));
});

describe('bad input is a ConfigError saying what to fix', () => {
  const provider = () => crowdstrike({ clientId: 'a', clientSecret: 'b' });
  test.each([
    [
      'a provider that is not a function',
      () => new TokenPool({ provider: crowdstrike({ clientId: 'a', clientSecret: 'b' }) as never }),
      'provider',
      /function of the key/,
    ],
    ['an idleMs that is not positive', () => new TokenPool({ provider, idleMs: 0 }), 'idleMs', /positive number of ms \(got 0\)/],
    ['a budget that is not one', () => new TokenPool({ provider, budget: { perMinute: 5 } as never }), 'budget', /tokenBudget/],
    ['an empty key', () => new TokenPool({ provider }).get(''), 'key', /non-empty string/],
    ['a key that is not a string', () => new TokenPool({ provider }).get(42 as never), 'key', /non-empty string/],
    [
      'a factory that throws (its message not quoted)',
      () =>
        new TokenPool({
          provider: () => {
            throw new Error('secret-in-message');
          },
        }).get('x'),
      'provider',
      /the provider factory threw a Error for a key/,
    ],
    [
      'a factory whose provider is bad (its own ConfigError)',
      () => new TokenPool({ provider: () => crowdstrike({ clientId: '', clientSecret: 'b' }) }).get('x'),
      'clientId',
      /clientId/,
    ],
  ])('%s', (_name, make, option, says) => {
    const thrown = thrownBy(() => make());
    expect(thrown).toBeInstanceOf(ConfigError);
    expect(thrown).toMatchObject({ option, message: expect.stringMatching(says) });
    expect((thrown as Error).message).not.toContain('secret-in-message');
  });
});

describe('what the attack review found', () => {
  test('a child with an attached instance is never idle (the instance stays bound to it); detached, it goes', async () => {
    const sim = await mssp();
    const pool = poolFor(sim, { idleMs: 10_000 });
    const child = pool.get(CHILDREN[0]!);
    const api = axios.create();
    const detach = child.attach(api);
    await fake.now().run(api.get('/devices/queries/devices/v1'));
    await fake.now().advance(60_000, 1_000);
    expect(pool.keys()).toEqual([CHILDREN[0]]);
    await expect(fake.now().run(api.get('/devices/queries/devices/v1'))).resolves.toMatchObject({ status: 200 });
    detach();
    await fake.now().advance(30_000, 1_000);
    expect(pool.size).toBe(0);
  });

  test('a child refreshing for a waiting caller is not evicted under it', async () => {
    const sim = await startSimulator({ dialect: 'crowdstrike', latencyMs: 6_000 });
    track(() => sim.close());
    const pool = poolFor(sim, { idleMs: 1_000 });
    const token = pool.get(CHILDREN[0]!).getToken();
    await expect(fake.now().run(token, 10_000, 100)).resolves.toEqual(expect.any(String));
    expect(pool.keys()).toEqual([CHILDREN[0]]);
  });

  test('dispose() waits for the revokes of children evicted just before', async () => {
    const sim = await mssp({ tokenLifetimeSeconds: 3600 });
    const pool = poolFor(sim, { idleMs: 1_000 });
    const evicted = new Promise<void>((resolve) => pool.on('evict', () => resolve()));
    await fake.now().run(pool.get(CHILDREN[0]!).getToken());
    await fake.now().run(evicted, 5_000, 100);
    await fake.now().run(pool.dispose());
    expect(sim.stats.revokeCalls).toBe(1);
  });

  test("the children's options are checked when the pool is made, under the pool's name", () => {
    const provider = () => crowdstrike({ clientId: 'a', clientSecret: 'b' });
    expect(() => new TokenPool({ provider, idelMs: 1_000 } as never)).toThrow(
      expect.objectContaining({ option: 'idelMs', message: expect.stringMatching(/TokenPool: unknown option "idelMs" \(did you mean idleMs\?\)/) }),
    );
    expect(() => new TokenPool({ provider, refreshTimeoutMs: -5 })).toThrow(expect.objectContaining({ option: 'refreshTimeoutMs' }));
  });
});

test('await using disposes the pool', async () => {
  const sim = await mssp();
  const pool = poolFor(sim);
  await fake.now().run(pool.get(CHILDREN[0]!).getToken());
  const dispose = (pool as unknown as Record<symbol, () => Promise<void>>)[Symbol.for('nodejs.asyncDispose')]!;
  await fake.now().run(dispose.call(pool));
  expect(sim.stats.revokeCalls).toBe(1);
  expect(() => pool.get(CHILDREN[0]!)).toThrow(expect.objectContaining({ code: 'disposed' }));
});

test('children made together refresh spread out, not all in the same minute', async () => {
  const sim = await startSimulator({ dialect: 'crowdstrike' }); // 30-minute tokens, any member CID
  track(() => sim.close());
  const cids = Array.from({ length: 20 }, (_, i) => i.toString(16).padStart(32, '0'));
  const pool = poolFor(sim, { idleMs: 3_600_000 });
  const refreshed: number[] = [];
  pool.on('refresh', (_key, _token, reason) => reason === 'scheduled' && refreshed.push(Date.now()));
  await fake.now().run(Promise.all(cids.map((cid) => pool.get(cid).getToken())));
  await fake.now().advance(29 * 60_000, 2_000);
  expect(refreshed).toHaveLength(20);
  expect(Math.max(...refreshed) - Math.min(...refreshed)).toBeGreaterThan(60_000);
});

test("a child whose turn is in the budget's next minute gets its token, not a timeout (a pool's refreshTimeoutMs)", async () => {
  const sim = await startSimulator({ dialect: 'crowdstrike' });
  track(() => sim.close());
  const pool = poolFor(sim, { budget: tokenBudget({ perMinute: 2 }) });
  const tokens = await fake.now().run(Promise.all(CHILDREN.map((cid) => pool.get(cid).getToken())), 90_000, 500);
  expect(new Set(tokens).size).toBe(3);
  expect(fake.now().elapsed()).toBeGreaterThanOrEqual(60_000);
});
