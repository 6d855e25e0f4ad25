// One replica of a service: a TokenManager (sharing its token through Redis when REDIS_PORT is
// set), an attached axios instance, steady traffic, and a report to the parent over IPC. Plain
// Node on the built package (dist/), so eight of them start in a blink.
const axios = require('axios');
const Redis = require('ioredis');
const { TokenManager, crowdstrike } = require('../../dist/index.js');
const { redisStore } = require('../../dist/redis/index.js');

const env = process.env;
const redis = env.REDIS_PORT ? new Redis({ port: Number(env.REDIS_PORT), host: '127.0.0.1', maxRetriesPerRequest: 1 }) : undefined;
redis?.on('error', () => undefined); // reconnects by itself; the manager reports what matters
const tokens = new TokenManager({
  provider: crowdstrike({ clientId: env.SIM_ID, clientSecret: env.SIM_SECRET, baseUrl: env.SIM_URL }),
  ...(redis && { store: redisStore({ client: redis, lockLeaseMs: Number(env.LEASE_MS ?? 5000) }) }),
  ...(env.REFRESH_WINDOW_MS && { refreshWindowMs: Number(env.REFRESH_WINDOW_MS) }),
});
const api = axios.create({ maxRedirects: 0 });
tokens.attach(api);

const report = { pid: process.pid, requests: 0, ok: 0, failed: {}, errors: [] };
tokens.on('error', (error) => report.errors.push(error.code));
const inFlight = new Set();
let traffic;

function send() {
  report.requests++;
  const request = api.get('/devices/queries/devices/v1').then(
    (response) => (response.status === 200 ? report.ok++ : undefined),
    (error) => {
      const code = error.code && error.name === 'TokenError' ? error.code : `http ${error.response?.status ?? error.message}`;
      report.failed[code] = (report.failed[code] ?? 0) + 1;
    },
  );
  inFlight.add(request);
  void request.finally(() => inFlight.delete(request));
}

process.on('message', async (message) => {
  // All replicas ask for their first token at the same moment, as a fleet restarting together does.
  if (message === 'start') {
    tokens.getToken().then(
      () => process.send({ type: 'ready' }),
      (error) => process.send({ type: 'failed', error: `${error.code}: ${error.message}` }),
    );
  }
  if (message === 'go') traffic = setInterval(send, 1000 / Number(env.RATE ?? 10));
  if (message === 'stop') {
    clearInterval(traffic);
    await Promise.all(inFlight);
    await tokens.dispose({ revoke: false });
    redis?.disconnect();
    process.send({ type: 'report', report }, () => process.disconnect());
  }
});

process.send({ type: 'loaded' });
