// CrowdStrike Flight Control (MSSP): list the parent's child CIDs, then count each child's hosts,
// one token per child from one pool, all under one token-endpoint budget.
//   FALCON_CLIENT_ID=... FALCON_CLIENT_SECRET=... [FALCON_CLOUD=us-2] npx tsx examples/mssp.ts
// FALCON_BASE_URL points at a proxy (or the simulator).
import axios from 'axios';
import { TokenManager, TokenPool, crowdstrike, tokenBudget } from 'tokenwarden';

const env = (name: string) => process.env[name] || undefined;
const credentials = {
  clientId: env('FALCON_CLIENT_ID') ?? '',
  clientSecret: env('FALCON_CLIENT_SECRET') ?? '',
  cloud: env('FALCON_CLOUD') ?? 'auto',
  baseUrl: env('FALCON_BASE_URL'),
};

async function main() {
  // One budget for the parent and every child: CrowdStrike counts token calls per source IP.
  const budget = tokenBudget({ perMinute: 250, concurrency: 8 });
  await using parent = new TokenManager({ provider: crowdstrike(credentials), budget });
  const falcon = axios.create();
  parent.attach(falcon);
  const children: string[] = [];
  for (let offset = 0; ;) {
    const { data } = await falcon.get('/mssp/queries/children/v1', { params: { offset, limit: 100 } });
    children.push(...(data.resources as string[]));
    offset += (data.resources as string[]).length;
    if ((data.resources as string[]).length === 0 || offset >= data.meta.pagination.total) break;
  }
  console.log(`${children.length} child CIDs`);

  await using pool = new TokenPool({ provider: (memberCid) => crowdstrike({ ...credentials, memberCid }), budget });
  pool.on('error', (cid, error) => console.error(`child ${cid}: ${error.code}: ${error.message}`));
  const counts = await Promise.all(
    children.map(async (cid) => {
      const api = axios.create();
      const detach = pool.get(cid).attach(api);
      try {
        const { data } = await api.get('/devices/queries/devices/v1', { params: { limit: 1 } });
        return `${cid}: ${data.meta?.pagination?.total ?? data.resources.length} hosts`;
      } finally {
        detach();
      }
    }),
  );
  for (const line of counts) console.log(line);
} // leaving the block disposes the pool and the parent: every token is revoked

main().catch((error) => {
  console.error(error.code ? `${error.code}: ${error.message}` : error);
  process.exitCode = 1;
});
