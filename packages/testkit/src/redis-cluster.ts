/**
 * A private Redis Cluster for tests and benchmarks: 3 masters and 3 replicas (`redis-server
 * --cluster-enabled yes` on free ports, joined by `redis-cli --cluster create`), nothing on disk beyond
 * each node's nodes.conf, stopped with the process that started it. Failover is fast (node timeout 1 s)
 * so that a test can kill a master and watch its replica take over.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { freePort } from './free-port';
import { ensureRedisServerBinary, startRedisServer, type RedisServer } from './redis-server';
import { waitFor } from './wait-for';

const run = promisify(execFile);

/** How long a node may be unreachable before its replica is promoted (Redis default: 15 s). */
export const TEST_CLUSTER_NODE_TIMEOUT_MS = 1000;

export interface RedisCluster {
  /** `host:port,host:port,…` of every node: the value of REDIS_CLUSTER_NODES. */
  nodesList: string;
  /** `redis+cluster://host:port,host:port,…`: the same as a URL. */
  url: string;
  /** Every node, masters and replicas, in start order (roles change on failover: ask `masters()`). */
  servers: RedisServer[];
  /** The nodes that are masters now, with the slot ranges they serve. */
  masters(): Promise<Array<{ server: RedisServer; slots: string[] }>>;
  /** Resolves once every live node reports cluster_state:ok, agrees on the masters, and every live replica is in sync with its master. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** The path of redis-cli (Debian package redis-tools), installing it with apt-get when missing and we are root. */
export function ensureRedisCliBinary(): string {
  const find = () => {
    try {
      return execFileSync('sh', ['-c', 'command -v redis-cli'], { encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  let path = find();
  if (path) return path;
  if (typeof process.getuid === 'function' && process.getuid() === 0) {
    process.stderr.write('redis-cli is missing: installing it with apt-get (Debian package redis-tools)\n');
    execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-tools'], { stdio: 'inherit' });
    path = find();
    if (path) return path;
  }
  throw new Error('redis-cli is not installed. Install it (Debian/Ubuntu: `sudo apt-get install -y redis-tools`, macOS: `brew install redis`).');
}

/**
 * Starts `masters` masters with one replica each and waits until the cluster serves every slot.
 * `requireFullCoverage: false` (cluster-require-full-coverage no) keeps the other masters serving while
 * one master's slots have no owner (during its failover); by default, as in Redis, every node refuses.
 */
export async function startRedisCluster(options: { masters?: number; requireFullCoverage?: boolean } = {}): Promise<RedisCluster> {
  ensureRedisServerBinary();
  const cli = ensureRedisCliBinary();
  const count = (options.masters ?? 3) * 2;
  const servers: RedisServer[] = [];
  try {
    for (let i = 0; i < count; i++) {
      // the cluster bus needs a port of its own; the default (port + 10000) may be taken or past 65535
      const busPort = await freePort();
      servers.push(
        await startRedisServer([
          '--cluster-enabled', 'yes',
          '--cluster-config-file', 'nodes.conf',
          '--cluster-port', String(busPort),
          '--cluster-node-timeout', String(TEST_CLUSTER_NODE_TIMEOUT_MS),
          '--cluster-require-full-coverage', options.requireFullCoverage === false ? 'no' : 'yes',
        ]),
      );
    }
    const addresses = servers.map((server) => `127.0.0.1:${server.port}`);
    await run(cli, ['--cluster', 'create', ...addresses, '--cluster-replicas', '1', '--cluster-yes'], { timeout: 30_000 });
    const cluster = makeCluster(cli, servers, addresses);
    await cluster.waitHealthy(30_000);
    return cluster;
  } catch (error) {
    await Promise.all(servers.map((server) => server.stop()));
    throw error;
  }
}

function makeCluster(cli: string, servers: RedisServer[], addresses: string[]): RedisCluster {
  const ask = async (server: RedisServer, ...args: string[]) =>
    (await run(cli, ['-p', String(server.port), ...args], { timeout: 5000 })).stdout;
  const alive = (server: RedisServer) => server.process.exitCode === null && server.process.signalCode === null;
  const cluster: RedisCluster = {
    nodesList: addresses.join(','),
    url: `redis+cluster://${addresses.join(',')}`,
    servers,
    async masters() {
      // Ask the first node that answers: right after a SIGKILL the killed node may still look alive here
      // (its exit not yet seen), and it must not stand for the cluster.
      let answer: string | undefined;
      let lastError: unknown;
      for (const server of servers.filter(alive)) {
        try {
          answer = await ask(server, 'CLUSTER', 'NODES');
          break;
        } catch (error) {
          lastError = error;
        }
      }
      if (answer === undefined) {
        if (lastError) throw lastError;
        return [];
      }
      const lines = answer.trim().split('\n');
      return lines.flatMap((line) => {
        const [, address, flags, , , , , state, ...slots] = line.split(' ');
        if (!flags?.includes('master') || flags.includes('fail') || state !== 'connected') return [];
        const port = Number(address?.split('@')[0]?.split(':')[1]);
        const server = servers.find((candidate) => candidate.port === port);
        return server ? [{ server, slots }] : [];
      });
    },
    async waitHealthy(timeoutMs = 30_000) {
      await waitFor(
        'a healthy redis cluster',
        async () => {
          const live = servers.filter(alive);
          const infos = await Promise.all(live.map((server) => ask(server, 'CLUSTER', 'INFO')));
          if (!infos.every((info) => info.includes('cluster_state:ok'))) return false;
          const masters = await cluster.masters();
          if (masters.length !== servers.length / 2 || !masters.every(({ slots }) => slots.length > 0)) return false;
          // a replica that has not finished its first sync (the master waits repl-diskless-sync-delay, 5 s,
          // before sending it) refuses to take over: a test that kills its master then waits for nothing
          const replication = await Promise.all(live.map((server) => ask(server, 'INFO', 'replication')));
          return replication.every((info) => !info.includes('role:slave') || info.includes('master_link_status:up'));
        },
        timeoutMs,
        100,
      );
    },
    async stop() {
      await Promise.all(servers.map((server) => server.stop()));
    },
  };
  return cluster;
}
