// `npm run demo`: the main job, with no credentials. A local CrowdStrike-style token server hands
// out 8-second tokens; a TokenManager keeps one fresh for an axios instance under steady traffic,
// rides out a 3-second outage of the token endpoint, survives a server-side revocation, and revokes
// its token on dispose. Each change of status() (what a readiness probe reads) is printed.
// DEMO_SECONDS sets the length of the run (default 20).
import axios from 'axios';
import { TokenManager, crowdstrike, type TokenError } from 'tokenwarden';
import { startSimulator } from 'tokenwarden/testing';

const SECONDS = Number(process.env['DEMO_SECONDS'] ?? 20);
const REQUESTS_PER_SECOND = 10;

async function main() {
  const sim = await startSimulator({ dialect: 'crowdstrike', tokenLifetimeSeconds: 8, latencyMs: 150 });
  const started = Date.now();
  const at = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s`;
  console.log(`simulator on ${sim.url}: CrowdStrike dialect, 8 s tokens, token calls take 150 ms\n`);

  // Two attempts per refresh, so the outage below shows as a failed refresh (status: degraded).
  const tokens = new TokenManager({
    provider: crowdstrike({ clientId: sim.clientId, clientSecret: sim.clientSecret, baseUrl: sim.url }),
    retry: { retries: 1 },
  });
  let fetched = 0;
  tokens.on('refresh', (token, reason) => {
    fetched++;
    console.log(`${at()}  refresh #${fetched} (${reason}): valid for ${((token.expiresAt - Date.now()) / 1000).toFixed(1)} s`);
  });
  tokens.on('error', (error: TokenError) => console.log(`${at()}  error ${error.code}: ${error.message}`));
  tokens.on('revoke', () => console.log(`${at()}  revoked the token at the server`));
  tokens.on('dispose', () => console.log(`${at()}  disposed`));

  // What a readiness probe would read: printed each time the state changes.
  let shown = '';
  const showStatus = () => {
    const { state, expiresInMs, consecutiveFailures, tokenCalls } = tokens.status();
    if (state === shown) return;
    shown = state;
    const left = expiresInMs === undefined ? 'no token' : `token for ${(expiresInMs / 1000).toFixed(1)} s`;
    console.log(`${at()}  status: ${state} (${left}, ${tokenCalls} token calls, ${consecutiveFailures} failures in a row)`);
  };
  showStatus();
  const watcher = setInterval(showStatus, 50);

  const api = axios.create(); // no baseURL: relative URLs go to tokens.baseUrl
  tokens.attach(api);
  await tokens.getToken(); // fail fast on bad credentials

  let sent = 0;
  let ok = 0;
  const failures: string[] = [];
  const slowest = { ms: 0 };
  const revokeAt = Math.floor(SECONDS * 0.55) * 1000;
  let revoked = false;
  // A 3-second outage of the token endpoint, in runs long enough to have one before the revocation:
  // a background refresh fails, the token still serves.
  const outageAt = SECONDS >= 15 ? Math.floor(SECONDS * 0.35) * 1000 : Infinity;
  const outage = { from: outageAt, to: outageAt + 3_000, on: false };
  const deadline = Date.now() + SECONDS * 1000;
  const inFlight = new Set<Promise<void>>();
  while (Date.now() < deadline) {
    const now = Date.now() - started;
    if (!outage.on && now >= outage.from && now < outage.to) {
      outage.on = true;
      sim.setFaultPolicy(() => 503);
      console.log(`${at()}  the token endpoint starts failing (503) for 3 s`);
    } else if (outage.on && now >= outage.to) {
      outage.on = false;
      sim.setFaultPolicy(undefined);
      console.log(`${at()}  the token endpoint is back`);
    }
    if (!revoked && Date.now() - started >= revokeAt) {
      revoked = true;
      sim.revokeAll();
      console.log(`${at()}  the server revokes the token (an admin rotated the API client): the next requests get a 401 and are replayed`);
    }
    const t0 = performance.now();
    sent++;
    const request = api.get('/devices/queries/devices/v1').then(
      () => {
        ok++;
        slowest.ms = Math.max(slowest.ms, performance.now() - t0);
      },
      (error: Error & { code?: string }) => void failures.push(error.code ?? error.message),
    );
    inFlight.add(request);
    void request.finally(() => inFlight.delete(request));
    await new Promise((resolve) => setTimeout(resolve, 1000 / REQUESTS_PER_SECOND));
  }
  await Promise.all(inFlight);
  await tokens.dispose();
  showStatus();
  clearInterval(watcher);
  await sim.close();

  const s = sim.stats;
  console.log(`
summary after ${SECONDS} s
  requests sent          ${sent} (${ok} ok, ${failures.length} failed${failures.length ? `: ${[...new Set(failures)].join(', ')}` : ''})
  token calls            ${s.tokenCalls} (one per ~4 s refresh, retries during the outage, one after the revocation)
  401s from the API      ${s.api401} (all replayed with the new token)
  expired-token sends    ${s.expiredTokenSends}
  slowest request        ${slowest.ms.toFixed(0)} ms (token calls take 150 ms: nobody waited for a refresh, except after the revocation)
  revoke calls           ${s.revokeCalls} (on dispose)`);
  if (failures.length || s.expiredTokenSends) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
