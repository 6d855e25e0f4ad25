// CrowdStrike Falcon with Node's own fetch: tokens.fetch is fetch with the token on it.
//   FALCON_CLIENT_ID=... FALCON_CLIENT_SECRET=... [FALCON_CLOUD=us-2] npx tsx examples/fetch.ts
// It works as the `fetch` of ky (`ky.create({ prefixUrl: tokens.baseUrl, fetch: tokens.fetch })`)
// and of ofetch (`ofetch.create({ baseURL: tokens.baseUrl }, { fetch: tokens.fetch })`).
import { TokenManager, crowdstrike } from 'tokenwarden';

const env = (name: string) => process.env[name] || undefined;

async function main() {
  await using tokens = new TokenManager({
    provider: crowdstrike({
      clientId: env('FALCON_CLIENT_ID') ?? '',
      clientSecret: env('FALCON_CLIENT_SECRET') ?? '',
      cloud: env('FALCON_CLOUD') ?? 'auto',
      baseUrl: env('FALCON_BASE_URL'),
    }),
  });
  // A relative URL goes under tokens.baseUrl (the discovered cloud), with the bearer.
  const response = await tokens.fetch('/devices/queries/devices/v1?limit=5', { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`the API answered ${response.status}`);
  const { resources } = (await response.json()) as { resources: string[] };
  console.log(`hosts via fetch from ${tokens.baseUrl}: ${JSON.stringify(resources)}`);
}

main().catch((error) => {
  console.error(error.code ? `${error.code}: ${error.message}` : error);
  process.exitCode = 1;
});
