// Any OAuth 2.0 client-credentials server (Auth0, Okta, Keycloak, Azure AD, your own).
//   OAUTH_TOKEN_URL=https://auth.example.com/oauth/token OAUTH_CLIENT_ID=... OAUTH_CLIENT_SECRET=... \
//   API_BASE_URL=https://api.example.com [OAUTH_SCOPE=...] [OAUTH_AUDIENCE=...] [OAUTH_REVOCATION_URL=...] \
//   [API_PATH=/v1/things] npx tsx examples/generic.ts
import axios from 'axios';
import { TokenManager, clientCredentials } from 'tokenwarden';

const env = (name: string) => process.env[name] || undefined;

async function main() {
  const tokens = new TokenManager({
    provider: clientCredentials({
      tokenUrl: env('OAUTH_TOKEN_URL') ?? '',
      clientId: env('OAUTH_CLIENT_ID') ?? '',
      clientSecret: env('OAUTH_CLIENT_SECRET') ?? '',
      scope: env('OAUTH_SCOPE'),
      audience: env('OAUTH_AUDIENCE'),
      revocationUrl: env('OAUTH_REVOCATION_URL'),
      baseUrl: env('API_BASE_URL'),
    }),
    // Tokens without expires_in are given 10 minutes by default; say so explicitly here.
    defaultLifetimeMs: 10 * 60_000,
  });
  try {
    const api = axios.create();
    tokens.attach(api);
    const response = await api.get(env('API_PATH') ?? '/');
    console.log(`GET ${response.config.baseURL}${response.config.url}: ${response.status}`);
  } finally {
    await tokens.dispose();
  }
}

main().catch((error) => {
  console.error(error.code ? `${error.code}: ${error.message}` : error);
  process.exitCode = 1;
});
