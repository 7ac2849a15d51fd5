/**
 * Where a subscribed connection's memory goes: one gateway process (main.ts) on a private Redis, N
 * connections each subscribed to K of T started tasks, then the node's RSS and V8 heap per connection
 * (read from its /metrics) and, with --snapshot=DIR, a heap snapshot (node --heapsnapshot-signal) to open
 * in Chrome DevTools or sum by constructor. Standalone, not in `npm run bench`:
 *
 *   npx tsx bench/src/memory/subscribed-heap.ts --connections=10000 --tasks-each=1 --tasks=1000 [--snapshot=/tmp/heap]
 */
import { readdirSync, statSync } from 'node:fs';
import { startRedisServer, startTsProcess, freePort } from '@taskpulse/testkit';
import { createRedisEngine } from '@taskpulse/engine';
import { createReporter } from '@taskpulse/reporter';
import { sleep } from '../clock';
import { serverRssBytes } from '../proc/proc-stats';
import { ConnectionPool } from '../loadgen/connection-pool';
import { wireFor } from '../loadgen/wire';
import { repoFile } from '../systems/system';

const option = (name: string, fallback: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const connections = Number(option('connections', '10000'));
const tasksEach = Number(option('tasks-each', '1'));
const taskCount = Number(option('tasks', '1000'));
const snapshotDir = option('snapshot', '');
const settleMs = Number(option('settle-ms', '3000'));

const redis = await startRedisServer();
const port = await freePort();
const prefix = 'heap';
const gateway = startTsProcess(
  repoFile('apps/gateway/src/main.ts').path,
  { REDIS_URL: redis.url, KEY_PREFIX: prefix, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', AUTH_MODE: 'insecure' },
  [],
  ['--max-semi-space-size=4', ...(snapshotDir ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapshotDir}`] : [])],
);
const engine = createRedisEngine({ url: redis.url, prefix });

/** The gateway's V8 heap (used and committed) and external memory from its /metrics, in MB. */
async function heapFigures(): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const read = (name: string) => Number(text.match(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm'))?.[1] ?? Number.NaN) / 1048576;
  const round = (v: number) => Math.round(v * 10) / 10;
  return {
    heapUsedMB: round(read('taskpulse_nodejs_heap_size_used_bytes')),
    heapTotalMB: round(read('taskpulse_nodejs_heap_size_total_bytes')),
    externalMB: round(read('taskpulse_nodejs_external_memory_bytes')),
  };
}
const pool = new ConnectionPool();
try {
  await gateway.waitForOutput(/gateway listening on/);
  await engine.ready(15_000);
  const reporter = createReporter(engine);
  const tasks = Array.from({ length: taskCount }, (_, j) => `t${j}`);
  for (const task of tasks) await reporter.notifyTaskStart(task, 'u-owner', 'p-heap');
  const pid = gateway.child.pid!;
  await sleep(2000);
  const before = serverRssBytes(pid);
  const heapBefore = await heapFigures();
  const conns = Array.from({ length: connections }, (_, i): [number, string, string, string[]] => [
    0,
    `u${i}`,
    `p${i % 100}`,
    Array.from({ length: tasksEach }, (_, k) => tasks[(i * tasksEach + k) % taskCount]!),
  ]);
  const t0 = performance.now();
  const result = await pool.connect({ wire: wireFor('taskpulse'), nodes: [`ws://127.0.0.1:${port}`], conns, concurrency: 50, timeoutMs: 20_000, deadlineMs: 300_000, maxFailures: 100 });
  const connectMs = Math.round(performance.now() - t0);
  await sleep(settleMs);
  const after = serverRssBytes(pid);
  const heapAfter = await heapFigures();
  console.log(
    JSON.stringify({
      connections: result.opened,
      failed: result.failed,
      tasksEach,
      connectMs,
      rssBeforeMB: Math.round(before / 1048576),
      rssAfterMB: Math.round(after / 1048576),
      bytesPerConnection: Math.round((after - before) / Math.max(1, result.opened)),
      heapBefore,
      heapAfter,
      errors: result.errors,
    }),
  );
  if (snapshotDir) {
    process.kill(pid, 'SIGUSR2');
    // The snapshot is written by the gateway's main thread: done when its size stops changing.
    const deadline = Date.now() + 180_000;
    let files: string[] = [];
    let lastSize = -1;
    while (Date.now() < deadline) {
      await sleep(3000);
      files = readdirSync(snapshotDir).filter((f) => f.endsWith('.heapsnapshot'));
      const size = files.reduce((a, f) => a + statSync(`${snapshotDir}/${f}`).size, 0);
      if (size > 0 && size === lastSize) break;
      lastSize = size;
    }
    console.log(`heap snapshot: ${files.map((f) => `${snapshotDir}/${f}`).join(', ')}`);
  }
} finally {
  await pool.closeAll();
  await engine.close();
  await gateway.kill();
  await redis.stop();
}
process.exit(0);
