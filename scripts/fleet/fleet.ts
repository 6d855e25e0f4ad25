// K replicas as real child processes sharing one simulator (and one Redis, or not).
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Simulator } from '../../src/testing';

export interface ReplicaReport {
  pid: number;
  requests: number;
  ok: number;
  failed: Record<string, number>;
  errors: string[];
}

export interface FleetOptions {
  size: number;
  sim: Simulator;
  /** Share tokens through this Redis; without it each replica keeps its own. */
  redisPort?: number;
  /** Requests a second per replica. Default 10. */
  rate?: number;
  lockLeaseMs?: number;
  refreshWindowMs?: number;
}

export interface RunningFleet {
  /** Start the traffic everywhere. */
  go(): void;
  /** SIGKILL one replica (it reports nothing). */
  kill(pid: number): void;
  /** Stop the traffic, dispose, collect the survivors' reports. */
  stop(): Promise<ReplicaReport[]>;
  /** SIGKILL whatever still runs (cleanup after a failure). */
  close(): void;
}

/** Replicas run the built package: refuse to test a dist/ older than the source. */
function assertFreshBuild(): void {
  const root = join(__dirname, '..', '..');
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((latest, entry) => {
      const path = join(dir, entry.name);
      return Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
    }, 0);
  const built = existsSync(join(root, 'dist', 'index.js')) ? statSync(join(root, 'dist', 'index.js')).mtimeMs : 0;
  if (built < newest(join(root, 'src'))) throw new Error('dist/ is older than src/: run `npm run build` (npm test does it first)');
}

export async function startFleet(options: FleetOptions): Promise<RunningFleet> {
  assertFreshBuild();
  const { sim } = options;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SIM_URL: sim.url,
    SIM_ID: sim.clientId,
    SIM_SECRET: sim.clientSecret,
    RATE: String(options.rate ?? 10),
    ...(options.redisPort !== undefined && { REDIS_PORT: String(options.redisPort) }),
    ...(options.lockLeaseMs !== undefined && { LEASE_MS: String(options.lockLeaseMs) }),
    ...(options.refreshWindowMs !== undefined && { REFRESH_WINDOW_MS: String(options.refreshWindowMs) }),
  };
  const replicas = Array.from({ length: options.size }, () => fork(join(__dirname, 'worker.cjs'), [], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const killed = new Set<number>();
  const next = (replica: ChildProcess, type: string) =>
    new Promise<void>((resolve, reject) => {
      const onMessage = (message: { type: string; error?: string }) => {
        if (message.type === type) resolve();
        else if (message.type === 'failed') reject(new Error(`a replica could not start: ${message.error}`));
        else return;
        replica.off('message', onMessage);
      };
      replica.on('message', onMessage);
      replica.once('exit', (code) => reject(new Error(`a replica exited with ${code} before it was ${type}`)));
    });
  await Promise.all(replicas.map((replica) => next(replica, 'loaded')));
  // Released at once: every replica wants its first token at the same moment.
  const ready = replicas.map((replica) => next(replica, 'ready'));
  for (const replica of replicas) replica.send('start');
  await Promise.all(ready);
  return {
    go: () => replicas.forEach((replica) => replica.send('go')),
    kill(pid) {
      killed.add(pid);
      replicas.find((replica) => replica.pid === pid)?.kill('SIGKILL');
    },
    close() {
      for (const replica of replicas) if (replica.exitCode === null && replica.signalCode === null) replica.kill('SIGKILL');
    },
    stop: () =>
      Promise.all(
        replicas
          .filter((replica) => !killed.has(replica.pid!))
          .map(
            (replica) =>
              new Promise<ReplicaReport>((resolve, reject) => {
                replica.on('message', (message: { type: string; report?: ReplicaReport }) => message.type === 'report' && resolve(message.report!));
                replica.once('exit', (code) => code !== 0 && reject(new Error(`replica ${replica.pid} exited with ${code}`)));
                replica.send('stop');
              }),
          ),
      ),
  };
}
