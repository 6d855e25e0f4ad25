// `tokenwarden sim`: the simulator as a standalone server, for the tests of services written in
// any language. Its credentials are made up for the run, so printing them is fine. Loaded only by
// this command (main.ts imports it lazily): the others never load the simulator.
import { startSimulator, type Fault, type SimulatorOptions } from '../testing';
import { CliError } from './exit-codes';
import { numberFlag, type Io } from './session';

export interface SimFlags {
  dialect: string;
  port: string;
  host: string;
  clientId?: string;
  tokenLifetime?: string;
  latency?: string;
  apiLatency?: string;
  failFirst?: string;
  failRate?: string;
  failWith: string;
  seed: string;
  tokenBudget?: string;
  jwt?: boolean;
}

const DIALECTS = ['crowdstrike', 'onelogin', 'oauth2'] as const;
const FAULTS = ['reset', 'hang', 'drip'] as const;

/** Starts the simulator, prints how to use it, and resolves once it is closed by SIGINT or SIGTERM. */
export async function sim(flags: SimFlags, io: Io): Promise<void> {
  const dialect = DIALECTS.find((name) => name === flags.dialect);
  if (dialect === undefined) throw new CliError('usage', `--dialect must be one of ${DIALECTS.join(', ')}`);
  const fault = faultOf(flags.failWith);
  const options: SimulatorOptions = {
    dialect,
    port: numberFlag(flags.port, '--port'),
    host: flags.host,
    ...(flags.clientId !== undefined && { clientId: flags.clientId }),
    ...(flags.tokenLifetime !== undefined && { tokenLifetimeSeconds: numberFlag(flags.tokenLifetime, '--token-lifetime', { min: 1 }) }),
    ...(flags.latency !== undefined && { latencyMs: numberFlag(flags.latency, '--latency') }),
    ...(flags.apiLatency !== undefined && { apiLatencyMs: numberFlag(flags.apiLatency, '--api-latency') }),
    ...(flags.tokenBudget !== undefined && { tokenBudgetPerMinute: numberFlag(flags.tokenBudget, '--token-budget', { min: 1 }) }),
    ...(flags.jwt && { jwtAccessTokens: true }),
  };
  let server;
  try {
    server = await startSimulator(options);
  } catch (error) {
    // The simulator's own TypeErrors name the option; a taken port is the usual listen error.
    const code = (error as { code?: unknown }).code;
    throw new CliError('invalid_config', `sim: ${code === 'EADDRINUSE' ? `port ${options.port} is in use` : (error as Error).message}`);
  }
  if (flags.failFirst !== undefined) server.failNext(numberFlag(flags.failFirst, '--fail-first'), fault);
  if (flags.failRate !== undefined) {
    const rate = numberFlag(flags.failRate, '--fail-rate', { integer: false });
    if (rate > 1) throw new CliError('usage', '--fail-rate is a fraction from 0 to 1');
    const random = seeded(numberFlag(flags.seed, '--seed'));
    server.setFaultPolicy(() => (random() < rate ? fault : undefined));
  }
  io.out(banner(dialect, server));
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop).off('SIGTERM', stop);
      const { tokenCalls, revokeCalls, apiCalls } = server.stats;
      io.err(`stopping: ${tokenCalls} token calls, ${revokeCalls} revoke calls, ${apiCalls} API calls\n`);
      void server.close().then(resolve);
    };
    process.on('SIGINT', stop).on('SIGTERM', stop);
  });
}

function banner(dialect: (typeof DIALECTS)[number], server: Awaited<ReturnType<typeof startSimulator>>): string {
  const env =
    dialect === 'crowdstrike'
      ? { FALCON_CLIENT_ID: server.clientId, FALCON_CLIENT_SECRET: server.clientSecret, FALCON_BASE_URL: server.url }
      : dialect === 'onelogin'
        ? { ONELOGIN_CLIENT_ID: server.clientId, ONELOGIN_CLIENT_SECRET: server.clientSecret, ONELOGIN_BASE_URL: server.url }
        : {
            OAUTH2_TOKEN_URL: server.tokenUrl,
            OAUTH2_REVOCATION_URL: server.revokeUrl,
            OAUTH2_CLIENT_ID: server.clientId,
            OAUTH2_CLIENT_SECRET: server.clientSecret,
            OAUTH2_BASE_URL: server.url,
          };
  return [
    `tokenwarden simulator (${dialect}) listening on ${server.url}`,
    `  token URL      ${server.tokenUrl}`,
    `  revoke URL     ${server.revokeUrl}`,
    `  client id      ${server.clientId}`,
    `  client secret  ${server.clientSecret}   (made up for this run)`,
    `  API            ${server.url}/ answers 401 to expired, revoked or unknown tokens`,
    '',
    'To use it with tokenwarden token (or your own service):',
    ...Object.entries(env).map(([name, value]) => `  export ${name}=${value}`),
    '',
    'Stop with Ctrl-C (SIGINT) or SIGTERM.',
    '',
  ].join('\n');
}

function faultOf(text: string): Fault {
  if ((FAULTS as readonly string[]).includes(text)) return text as (typeof FAULTS)[number];
  const status = Number(text);
  if (Number.isInteger(status) && status >= 400 && status <= 599) return status;
  throw new CliError('usage', `--fail-with must be an HTTP status from 400 to 599, or one of ${FAULTS.join(', ')}`);
}

/** mulberry32: the same faults for the same seed, run after run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
