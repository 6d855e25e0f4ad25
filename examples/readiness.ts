// A readiness probe: /readyz answers 200 while a token can be had, 503 (with the state) when not.
//   FALCON_CLIENT_ID=... FALCON_CLIENT_SECRET=... [PORT=8080] npx tsx examples/readiness.ts
// Here it asks its own probe before and after the first token, calls the API once, and exits; a
// service would keep the server up.
import axios from 'axios';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { TokenManager, crowdstrike } from 'tokenwarden';

const env = (name: string) => process.env[name] || undefined;

async function main() {
  await using tokens = new TokenManager({
    provider: crowdstrike({ clientId: env('FALCON_CLIENT_ID') ?? '', clientSecret: env('FALCON_CLIENT_SECRET') ?? '', baseUrl: env('FALCON_BASE_URL') }),
  });

  const probe = createServer((req, res) => {
    const status = tokens.status(); // cheap, and nothing secret in it
    const ready = req.url === '/readyz' ? status.usable : true; // /livez: the process is up
    res.writeHead(ready ? 200 : 503, { 'Content-Type': 'application/json' }).end(JSON.stringify(status));
  });
  probe.listen(Number(env('PORT') ?? 0), '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  const ask = async () => {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`);
    const { state } = (await response.json()) as { state: string };
    console.log(`GET /readyz -> ${response.status} (${state})`);
  };

  await ask(); // 503 (starting): no token yet
  const falcon = axios.create();
  tokens.attach(falcon);
  await tokens.getToken();
  await ask(); // 200 (ready)
  const { data } = await falcon.get('/devices/queries/devices/v1', { params: { limit: 5 } });
  console.log(`hosts: ${JSON.stringify(data.resources)}`);
  probe.close();
}

main().catch((error) => {
  console.error(error.code ? `${error.code}: ${error.message}` : error);
  process.exitCode = 1;
});
