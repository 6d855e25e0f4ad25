// Runs each example as its own process against the local simulator, with the environment a real
// deployment would set. `npm run examples`; the test suite runs the same function.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startSimulator, type Simulator, type SimulatorStats } from '../src/testing';

export const EXAMPLES = ['crowdstrike', 'onelogin', 'generic', 'several-instances', 'graceful-shutdown', 'readiness', 'mssp', 'fetch', 'telemetry'] as const;
/** The MSSP example's children, as the simulator's Flight Control parent has them. */
export const MSSP_CHILDREN = ['0a1b2c3d4e5f60718293a4b5c6d7e8f9', '1a1b2c3d4e5f60718293a4b5c6d7e8f9', '2a1b2c3d4e5f60718293a4b5c6d7e8f9'];
export type ExampleName = (typeof EXAMPLES)[number];

export interface ExampleRun {
  name: ExampleName;
  code: number | null;
  stdout: string;
  stderr: string;
  stats: SimulatorStats;
}

function environment(name: ExampleName, sim: Simulator): Record<string, string> {
  switch (name) {
    case 'onelogin':
      return { ONELOGIN_CLIENT_ID: sim.clientId, ONELOGIN_CLIENT_SECRET: sim.clientSecret, ONELOGIN_BASE_URL: sim.url };
    case 'generic':
      return {
        OAUTH_TOKEN_URL: sim.tokenUrl,
        OAUTH_CLIENT_ID: sim.clientId,
        OAUTH_CLIENT_SECRET: sim.clientSecret,
        OAUTH_REVOCATION_URL: sim.revokeUrl,
        API_BASE_URL: sim.url,
        API_PATH: '/v1/things',
      };
    default:
      return { FALCON_CLIENT_ID: sim.clientId, FALCON_CLIENT_SECRET: sim.clientSecret, FALCON_BASE_URL: sim.url };
  }
}

export async function runExample(name: ExampleName): Promise<ExampleRun> {
  const sim = await startSimulator({
    dialect: name === 'onelogin' ? 'onelogin' : name === 'generic' ? 'oauth2' : 'crowdstrike',
    ...(name === 'mssp' && { memberCids: MSSP_CHILDREN }),
  });
  try {
    const ours = /^(FALCON|ONELOGIN|OAUTH|API)_/;
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !ours.test(key)));
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'examples', `${name}.ts`)], {
      cwd: join(__dirname, '..'),
      env: { ...inherited, ...environment(name, sim) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      // The long-running example: stop it the way an orchestrator would, once it has done some work.
      if (name === 'graceful-shutdown' && /poll: .*\n.*poll: /s.test(stdout) && !child.killed) child.kill('SIGTERM');
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearTimeout(killer);
    return { name, code, stdout, stderr, stats: sim.stats };
  } finally {
    await sim.close();
  }
}

async function main() {
  let failed = 0;
  for (const name of EXAMPLES) {
    const run = await runExample(name);
    const ok = run.code === 0 && run.stats.expiredTokenSends === 0;
    if (!ok) failed++;
    console.log(
      `${ok ? 'ok  ' : 'FAIL'} ${name}: exit ${run.code}, ${run.stats.tokenCalls} token calls, ${run.stats.apiOk} API calls, ${run.stats.revokeCalls} revokes`,
    );
    for (const line of `${run.stdout}${run.stderr}`.trim().split('\n')) console.log(`       ${line}`);
  }
  process.exitCode = failed ? 1 : 0;
}

if (require.main === module) void main();
