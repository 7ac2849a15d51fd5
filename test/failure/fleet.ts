/**
 * The failure test's cluster, as real processes: a private redis-server with persistence on (or a given
 * Redis Cluster, for the failover test), two gateway processes (`npm run gateway` as it runs in production) and a private nginx in front of them,
 * plus publisher processes on demand. Every process is killed by `stop`, whatever state the run is in.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, startRedisServer, startTsProcess, type ManagedProcess, type RedisCluster, type RedisServer } from '@taskpulse/testkit';
import { startNginx, type Nginx } from './nginx';
import type { PublisherReport } from './publisher-process';

const root = new URL('../../', import.meta.url).pathname;

export interface Gateway {
  nodeId: string;
  port: number;
  /** host:port as nginx names it in X-Upstream. */
  address: string;
  process: ManagedProcess;
}

export interface Fleet {
  prefix: string;
  /** The private redis-server; undefined when the fleet runs on a given Redis Cluster. */
  redis: RedisServer | undefined;
  gateways: Gateway[];
  nginx: Nginx;
  /** Starts a publisher process for `tasks`; resolves with its report once it exits 0. */
  publish(name: string, tasks: string[], rate: number, count: number, deadlineMs: number): { process: ManagedProcess; report: Promise<PublisherReport> };
  /** Restarts Redis as an operator would: SHUTDOWN (the AOF is written), `downMs` away, started again on the same port and data. */
  restartRedis(downMs: number): Promise<void>;
  /** FLUSHALL on the fleet's Redis: every task's history and every session are gone. */
  flushRedis(): Promise<void>;
  /** The live gateways' conflated-frame counters summed (metrics named *conflat*; 0 where there is none). */
  conflatedFrames(): Promise<number>;
  /** Every process's output tail, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

/** The environment every entry point gets: Redis, the key prefix, insecure auth (the cluster entry points require AUTH_MODE). */
function baseEnv(redisUrl: string, prefix: string): Record<string, string> {
  return { REDIS_URL: redisUrl, KEY_PREFIX: prefix, AUTH_MODE: 'insecure', LOG_LEVEL: 'warn' };
}

/** Starts Redis (unless `cluster` is given: then every process points at it), two gateways and nginx; on any failure stops what it started and throws. */
export async function startFleet(nginxBinary: string, prefix: string, options: { cluster?: RedisCluster } = {}): Promise<Fleet> {
  const dir = mkdtempSync(join(tmpdir(), 'taskpulse-failure-'));
  const started: Array<() => Promise<unknown>> = [];
  const publishers: ManagedProcess[] = [];
  const stopAll = async () => {
    await Promise.all(publishers.map((p) => p.kill()));
    for (const stop of started.reverse()) await stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // Persistence on: history survives the restart (fsync every second; the restart shuts down cleanly, writing it all).
    const redis = options.cluster ? undefined : await startRedisServer(['--appendonly', 'yes', '--appendfsync', 'everysec']);
    if (redis) started.push(() => redis.stop());
    const env = baseEnv(redis?.url ?? options.cluster!.url, prefix);
    const gateways: Gateway[] = [];
    for (const nodeId of ['fail-a', 'fail-b']) {
      const port = await freePort();
      const process = startTsProcess(
        `${root}apps/gateway/src/main.ts`,
        { ...env, PORT: String(port), HOST: '127.0.0.1', NODE_ID: nodeId, HEARTBEAT_INTERVAL_MS: '1000', SESSION_REFRESH_MS: '1000' },
        [],
        ['--max-semi-space-size=4'],
      );
      started.push(() => process.kill());
      gateways.push({ nodeId, port, address: `127.0.0.1:${port}`, process });
    }
    await Promise.all(gateways.map((g) => g.process.waitForOutput(/gateway listening on/, 30_000)));
    const nginx = await startNginx(nginxBinary, gateways.map((g) => g.port));
    started.push(() => nginx.stop());
    return {
      prefix,
      redis,
      gateways,
      nginx,
      publish(name, tasks, rate, count, deadlineMs) {
        const out = join(dir, `${name}.json`);
        const process = startTsProcess(`${root}test/failure/publisher-process.ts`, {
          ...env,
          PUBLISHER_TASKS: tasks.join(','),
          PUBLISHER_RATE: String(rate),
          PUBLISHER_COUNT: String(count),
          PUBLISHER_OUT: out,
          PUBLISHER_DEADLINE_MS: String(deadlineMs),
        });
        publishers.push(process);
        const report = (async () => {
          const code = await new Promise<number | null>((resolve) => process.child.once('exit', (c) => resolve(c)));
          if (code !== 0) throw new Error(`publisher ${name} exited with ${code}:\n${process.output().slice(-3000)}`);
          return JSON.parse(readFileSync(out, 'utf8')) as PublisherReport;
        })();
        return { process, report };
      },
      async restartRedis(downMs) {
        if (!redis) throw new Error('restartRedis: this fleet runs on a Redis Cluster');
        const exited = new Promise((r) => redis.process.once('exit', r));
        const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
        await client.connect();
        // SHUTDOWN closes the connection instead of answering: that is its success.
        await client.shutdown().catch(() => {});
        client.disconnect();
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        await new Promise((r) => setTimeout(r, downMs));
        await redis.restart();
      },
      async flushRedis() {
        if (!redis) throw new Error('flushRedis: this fleet runs on a Redis Cluster');
        const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
        await client.connect();
        try {
          await client.flushall();
        } finally {
          client.disconnect();
        }
      },
      async conflatedFrames() {
        let sum = 0;
        for (const g of gateways) {
          if (g.process.child.exitCode !== null || g.process.child.signalCode !== null) continue;
          const text = await fetch(`http://${g.address}/metrics`).then((r) => r.text(), () => '');
          for (const line of text.split('\n')) if (!line.startsWith('#') && /conflat\w*_total/.test(line)) sum += Number(line.split(' ').pop()) || 0;
        }
        return sum;
      },
      logs() {
        const tail = (s: string) => s.slice(-2000);
        return [
          ...gateways.map((g) => `── gateway ${g.nodeId}\n${tail(g.process.output())}`),
          ...publishers.map((p, i) => `── publisher ${i}\n${tail(p.output())}`),
          `── nginx\n${tail(nginx.errorLog())}`,
        ].join('\n');
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
