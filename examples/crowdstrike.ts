// CrowdStrike Falcon: list a few hosts.
//   FALCON_CLIENT_ID=... FALCON_CLIENT_SECRET=... [FALCON_CLOUD=us-2] npx tsx examples/crowdstrike.ts
// FALCON_CLOUD defaults to autodiscovery; FALCON_BASE_URL points at a proxy (or the simulator).
import axios from 'axios';
import { TokenManager, crowdstrike } from 'tokenwarden';

const env = (name: string) => process.env[name] || undefined;

async function main() {
  await using tokens = new TokenManager({
    provider: crowdstrike({
      clientId: env('FALCON_CLIENT_ID') ?? '',
      clientSecret: env('FALCON_CLIENT_SECRET') ?? '',
      cloud: env('FALCON_CLOUD') ?? 'auto',
      baseUrl: env('FALCON_BASE_URL'),
      memberCid: env('FALCON_MEMBER_CID'),
    }),
  });
  tokens.on('refresh', (token, reason) => console.log(`token (${reason}) valid until ${new Date(token.expiresAt).toISOString()}`));
  tokens.on('error', (error) => console.error(`token refresh failed: ${error.code}: ${error.message}`));

  const falcon = axios.create();
  tokens.attach(falcon);
  await tokens.getToken(); // fail fast on bad credentials
  console.log(`connected to ${tokens.baseUrl}`);

  const { data } = await falcon.get('/devices/queries/devices/v1', { params: { limit: 5 } });
  console.log(`hosts: ${JSON.stringify(data.resources)}`);
} // leaving the block disposes the manager: the token is revoked

main().catch((error) => {
  console.error(error.code ? `${error.code}: ${error.message}` : error);
  process.exitCode = 1;
});
