// A long-running worker that stops cleanly on SIGTERM / SIGINT: the token is revoked and the
// process exits by itself (tokenwarden leaves no timer or socket behind).
//   FALCON_CLIENT_ID=... FALCON_CLIENT_SECRET=... npx tsx examples/graceful-shutdown.ts
import axios from 'axios';
import { TokenManager, crowdstrike } from 'tokenwarden';

const env = (name: string) => process.env[name] || undefined;

const tokens = new TokenManager({
  provider: crowdstrike({ clientId: env('FALCON_CLIENT_ID') ?? '', clientSecret: env('FALCON_CLIENT_SECRET') ?? '', baseUrl: env('FALCON_BASE_URL') }),
});
tokens.on('revoke', () => console.log('token revoked'));
tokens.on('error', (error) => console.error(`token: ${error.code}: ${error.message}`));
const api = axios.create();
tokens.attach(api);

let polling: NodeJS.Timeout | undefined;
async function poll() {
  try {
    const { data } = await api.get('/devices/queries/devices/v1', { params: { limit: 1 } });
    console.log(`poll: ${data.resources.length} hosts`);
  } catch (error) {
    console.error(`poll failed: ${(error as Error).message}`);
  }
  polling = setTimeout(poll, 1_000);
}

async function shutdown(signal: string) {
  console.log(`${signal}: shutting down`);
  clearTimeout(polling);
  await tokens.dispose(); // waits for a token call in flight, then revokes
  console.log('stopped');
  // No process.exit(): with the poller stopped, nothing keeps Node alive.
}

process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));

tokens.getToken().then(
  () => {
    console.log('ready');
    return poll();
  },
  (error) => {
    console.error(`cannot start: ${error.code}: ${error.message}`);
    process.exitCode = 1;
  },
);
