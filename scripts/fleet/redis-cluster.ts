// A Redis Cluster of our own (3 masters + 3 replicas on free loopback ports), for the cluster fleet tests.
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Redis, { Cluster, type ClusterOptions } from 'ioredis';
import { INSTALL_REDIS, launch, redisServerBinary } from './redis-server';

const run = promisify(execFile);

export interface ClusterNode {
  readonly port: number;
  readonly dir: string;
  child: ChildProcess;
}

export interface RedisCluster {
  readonly nodes: readonly ClusterNode[];
  client(options?: ClusterOptions): Cluster;
  /** The node currently serving as master (and its replicas) for the slot of `key`. */
  owner(key: string): Promise<{ master: ClusterNode; replicas: ClusterNode[] }>;
  kill(node: ClusterNode): Promise<void>;
  restart(node: ClusterNode): Promise<void>;
  stop(): Promise<void>;
}

const exited = (proc: ChildProcess) =>
  proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => proc.once('exit', () => resolve()));

function launchNode(binary: string, port: number, dir: string, nodeTimeout: number): Promise<ChildProcess> {
  return launch(binary, port, ['--dir', dir, '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', String(nodeTimeout)]);
}

async function info(port: number, ...command: string[]): Promise<string> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return String(await client.call(command[0] as string, ...command.slice(1)));
  } finally {
    client.disconnect();
  }
}

export async function startRedisCluster(nodeTimeout = 1500): Promise<RedisCluster> {
  const binary = redisServerBinary();
  if (binary === undefined) throw new Error(INSTALL_REDIS);
  // Cluster bus ports are port + 10000, so pick a random base below 55000 and retry on collision.
  let nodes: ClusterNode[] = [];
  for (let attempt = 0; nodes.length < 6; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    try {
      for (let i = 0; i < 6; i++) {
        const dir = mkdtempSync(join(tmpdir(), 'tw-cluster-'));
        nodes.push({ port: base + i, dir, child: await launchNode(binary, base + i, dir, nodeTimeout) });
      }
    } catch (error) {
      for (const node of nodes) node.child.kill('SIGKILL');
      for (const node of nodes) rmSync(node.dir, { recursive: true, force: true });
      nodes = [];
      if (attempt >= 4) throw error;
    }
  }
  const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
  await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '1', '--cluster-yes']);
  const deadline = Date.now() + 20_000;
  for (const node of nodes) {
    while (!(await info(node.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok')) {
      if (Date.now() > deadline) throw new Error('the Redis Cluster did not reach cluster_state:ok within 20 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const clients: Cluster[] = [];
  const live = () => nodes.find((n) => n.child.exitCode === null && n.child.signalCode === null) as ClusterNode;
  return {
    nodes,
    client(options) {
      const client = new Cluster([{ host: '127.0.0.1', port: live().port }], { ...options });
      client.on('error', () => undefined);
      clients.push(client);
      return client;
    },
    async owner(key) {
      const slot = Number(await info(live().port, 'CLUSTER', 'KEYSLOT', key));
      const client = new Redis({ port: live().port, host: '127.0.0.1', maxRetriesPerRequest: 0 });
      client.on('error', () => undefined);
      try {
        const slots = (await client.call('CLUSTER', 'SLOTS')) as [number, number, ...[string, number, string][]][];
        const range = slots.find(([from, to]) => from <= slot && slot <= to);
        if (range === undefined) throw new Error(`slot ${slot} has no owner`);
        const [, , master, ...replicas] = range;
        const byPort = (port: number) => nodes.find((n) => n.port === port) as ClusterNode;
        return { master: byPort((master as [string, number, string])[1]), replicas: replicas.map((r) => byPort(r[1])) };
      } finally {
        client.disconnect();
      }
    },
    async kill(node) {
      node.child.kill('SIGKILL');
      await exited(node.child);
    },
    async restart(node) {
      await exited(node.child);
      node.child = await launchNode(binary, node.port, node.dir, nodeTimeout);
    },
    async stop() {
      for (const client of clients) client.disconnect();
      for (const node of nodes) node.child.kill('SIGKILL');
      await Promise.all(nodes.map((n) => exited(n.child)));
      for (const node of nodes) rmSync(node.dir, { recursive: true, force: true });
    },
  };
}
