// OneLogin: list a few users.
//   ONELOGIN_CLIENT_ID=... ONELOGIN_CLIENT_SECRET=... ONELOGIN_SUBDOMAIN=acme npx tsx examples/onelogin.ts
import axios from 'axios';
import { TokenManager, onelogin } from 'tokenwarden';

const env = (name: string) => process.env[name] || undefined;

async function main() {
  const tokens = new TokenManager({
    provider: onelogin({
      clientId: env('ONELOGIN_CLIENT_ID') ?? '',
      clientSecret: env('ONELOGIN_CLIENT_SECRET') ?? '',
      subdomain: env('ONELOGIN_SUBDOMAIN'),
      baseUrl: env('ONELOGIN_BASE_URL'),
    }),
  });
  try {
    const api = axios.create();
    tokens.attach(api);
    const { data } = await api.get('/api/2/users', { params: { limit: 5 } });
    console.log(`users: ${JSON.stringify(data)}`);
  } finally {
    // OneLogin hands out the same token until it is revoked: revoking on the way out means the
    // next run (or another service with these credentials) starts with a fresh 10-hour token.
    await tokens.dispose();
  }
}

main().catch((error) => {
  console.error(error.code ? `${error.code}: ${error.message}` : error);
  process.exitCode = 1;
});
