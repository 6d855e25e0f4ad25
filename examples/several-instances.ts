// One manager, several axios instances: one token, one refresh, for all of them.
//   FALCON_CLIENT_ID=... FALCON_CLIENT_SECRET=... npx tsx examples/several-instances.ts
import axios from 'axios';
import { TokenManager, crowdstrike } from 'tokenwarden';

const env = (name: string) => process.env[name] || undefined;

async function main() {
  const tokens = new TokenManager({
    provider: crowdstrike({ clientId: env('FALCON_CLIENT_ID') ?? '', clientSecret: env('FALCON_CLIENT_SECRET') ?? '', baseUrl: env('FALCON_BASE_URL') }),
  });
  let refreshes = 0;
  tokens.on('refresh', () => refreshes++);
  try {
    await tokens.getToken();
    // Different timeouts and defaults per API family, the same token underneath.
    const hosts = axios.create({ baseURL: tokens.baseUrl, timeout: 10_000 });
    const detections = axios.create({ baseURL: tokens.baseUrl, timeout: 60_000 });
    const detachHosts = tokens.attach(hosts);
    tokens.attach(detections);

    const [h, d] = await Promise.all([
      hosts.get('/devices/queries/devices/v1', { params: { limit: 1 } }),
      detections.get('/alerts/queries/alerts/v2', { params: { limit: 1 } }),
    ]);
    console.log(`hosts ${h.status}, alerts ${d.status}, token fetches ${refreshes}`);

    detachHosts(); // this instance stops sending the bearer; the other keeps it
    const bare = await hosts.get('/devices/queries/devices/v1').catch((error) => error.response);
    console.log(`after detach: hosts ${bare.status}`);
  } finally {
    await tokens.dispose();
  }
}

main().catch((error) => {
  console.error(error.code ? `${error.code}: ${error.message}` : error);
  process.exitCode = 1;
});
