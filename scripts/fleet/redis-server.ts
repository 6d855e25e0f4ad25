// A redis-server of our own on a random loopback port (never one someone else started), for the
// fleet tests and `npm run demo:fleet`.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import Redis from 'ioredis';

export function redisServerBinary(): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/bin', '/usr/sbin', '/usr/local/bin'];
  for (const dir of dirs) {
    try {
      accessSync(join(dir, 'redis-server'), constants.X_OK);
      return join(dir, 'redis-server');
    } catch {
      // not here
    }
  }
  return undefined;
}

export const INSTALL_REDIS = 'redis-server not found; install it with `apt-get install redis-server` (Debian/Ubuntu) or `brew install redis`';

export interface RedisServer {
  readonly port: number;
  /** A new client; closed by stop(). */
  client(): Redis;
  /** SIGKILL: the server vanishes mid-run. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: the server hangs (every command waits) and comes back. */
  pause(): void;
  resume(): void;
  /** Start again on the same port (empty: nothing is persisted). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A redis-server on `port` with nothing persisted (`extra`: more flags, e.g. a cluster node's), once it accepts connections. */
export function launch(binary: string, port: number, extra: string[] = []): Promise<ChildProcess> {
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${output}`)), 10_000);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}): ${output}`));
    });
  });
}

export async function startRedis(): Promise<RedisServer> {
  const binary = redisServerBinary();
  if (binary === undefined) throw new Error(INSTALL_REDIS);
  const port = await freePort();
  let child = await launch(binary, port);
  const clients: Redis[] = [];
  const exited = (proc: ChildProcess) =>
    proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return {
    port,
    client() {
      const client = new Redis({ port, host: '127.0.0.1', lazyConnect: false, maxRetriesPerRequest: 1 });
      client.on('error', () => undefined); // reconnects on its own; the tests watch the outcomes
      clients.push(client);
      return client;
    },
    async kill() {
      child.kill('SIGKILL');
      await exited(child);
    },
    pause() {
      child.kill('SIGSTOP');
    },
    resume() {
      child.kill('SIGCONT');
    },
    async restart() {
      await exited(child);
      child = await launch(binary, port);
    },
    async stop() {
      for (const client of clients) client.disconnect();
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await exited(child);
    },
  };
}
