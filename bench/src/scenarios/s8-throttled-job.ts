/**
 * S8, standalone (issue 12, item 5): what the reporter's coalescing window does for a job that reports
 * 10,000 times in a few seconds. One gateway process (the cluster entry point) on a private Redis, 100
 * WebSocket clients subscribed to the job's task; this process runs the job: start, `--updates` calls of
 * updateProgressWithSteps paced over `--seconds`, each awaited as job code does, then complete. Runs once
 * per window (0 = no window, the plain reporter) on a fresh task and gateway. Reported: Redis and gateway
 * CPU over the job, events stored (the task's offset), frames delivered to the clients, and that the last
 * progress frame and the completion arrived.
 *
 *   npx tsx bench/src/scenarios/s8-throttled-job.ts [--updates=10000] [--seconds=3] [--clients=100]
 *       [--windows=0,100,1000] [--out=bench/results/<file>.md]
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { createRedisEngine } from '@taskpulse/engine';
import { createReporter } from '@taskpulse/reporter';
import { freePort, startRedisServer, startTsProcess, waitFor, type ManagedProcess } from '@taskpulse/testkit';
import { sleep } from '../clock';
import { CLOCK_TICKS, treeCpuTicks } from '../proc/proc-stats';
import { scriptArgs } from '../script-args';

const args = scriptArgs();
const UPDATES = Number(args.updates ?? 10_000);
const SECONDS = Number(args.seconds ?? 3);
const CLIENTS = Number(args.clients ?? 100);
const WINDOWS = String(args.windows ?? '0,100,1000').split(',').map(Number);
const root = new URL('../../../', import.meta.url).pathname;

interface RunResult {
  windowMs: number;
  jobSeconds: number;
  stored: number;
  framesPerClient: number;
  delivered: number;
  lastProgressSeen: boolean;
  completedSeen: boolean;
  redisCpuSeconds: number;
  gatewayCpuSeconds: number;
  jobCpuSeconds: number;
}

/** A client subscribed to the task; counts the task frames it gets and remembers the newest. */
function openClient(port: number, taskId: string, seen: { frames: number; last: string }): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/ws`);
    const timer = setTimeout(() => reject(new Error('client set-up timed out')), 30_000);
    ws.on('error', reject);
    ws.on('open', () => ws.send(JSON.stringify({ action: 'subscribe', task_id: taskId })));
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      if (text.includes('"type":"ack"')) {
        clearTimeout(timer);
        resolve(ws);
      } else if (text.startsWith('{"type":"progress"') || text.startsWith('{"type":"status"')) {
        seen.frames += 1;
        seen.last = text;
      }
    });
  });
}

async function run(windowMs: number, redisUrl: string, redisPid: number): Promise<RunResult> {
  const prefix = `s8${randomUUID().slice(0, 6)}`;
  const port = await freePort();
  const gateway: ManagedProcess = startTsProcess(
    `${root}apps/gateway/src/main.ts`,
    { REDIS_URL: redisUrl, PORT: String(port), HOST: '127.0.0.1', KEY_PREFIX: prefix, LOG_LEVEL: 'warn', AUTH_MODE: 'insecure' },
    [],
    ['--max-semi-space-size=4'],
  );
  const engine = createRedisEngine({ url: redisUrl, prefix });
  const sockets: WebSocket[] = [];
  try {
    await engine.ready();
    await waitFor('gateway ready', async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok, 30_000, 100);
    const taskId = `job-${randomUUID().slice(0, 8)}`;
    const reporter = windowMs > 0 ? createReporter(engine, { minIntervalMs: windowMs }) : createReporter(engine);
    await reporter.notifyTaskStart(taskId, 'user-1');
    const seen = Array.from({ length: CLIENTS }, () => ({ frames: 0, last: '' }));
    for (let i = 0; i < CLIENTS; i += 50) {
      sockets.push(...(await Promise.all(seen.slice(i, i + 50).map((s) => openClient(port, taskId, s)))));
    }
    await sleep(300);
    for (const s of seen) s.frames = 0;

    const gatewayPid = gateway.child.pid!;
    const before = { redis: treeCpuTicks(redisPid), gateway: treeCpuTicks(gatewayPid), job: process.cpuUsage(), at: Date.now() };
    const tickMs = 10;
    const perTick = Math.max(1, Math.ceil((UPDATES * tickMs) / (SECONDS * 1000)));
    let next = Date.now();
    for (let i = 1; i <= UPDATES; i++) {
      await reporter.updateProgressWithSteps(taskId, i <= UPDATES / 2 ? '转码' : '上传', i, UPDATES, `item ${i}`);
      if (i % perTick === 0) {
        next += tickMs;
        const wait = next - Date.now();
        if (wait > 0) await sleep(wait);
      }
    }
    const done = await reporter.notifyTaskComplete(taskId, { ok: true });
    const jobSeconds = (Date.now() - before.at) / 1000;
    await waitFor('the completion at every client', () => seen.every((s) => s.last.includes('"completed"')), 30_000, 20).catch(() => undefined);
    await sleep(200);
    const job = process.cpuUsage(before.job);
    const delivered = seen.reduce((sum, s) => sum + s.frames, 0);
    const history = await engine.history(taskId, 2);
    const lastProgress = history?.frames[1]?.toString() ?? '';
    return {
      windowMs,
      jobSeconds,
      stored: done.offset - 2, // the start and the completion are not progress
      framesPerClient: delivered / CLIENTS,
      delivered,
      lastProgressSeen: lastProgress.includes(`"message":"item ${UPDATES}"`),
      completedSeen: seen.every((s) => s.last.includes('"completed"')),
      redisCpuSeconds: (treeCpuTicks(redisPid) - before.redis) / CLOCK_TICKS,
      gatewayCpuSeconds: (treeCpuTicks(gatewayPid) - before.gateway) / CLOCK_TICKS,
      jobCpuSeconds: (job.user + job.system) / 1e6,
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    await engine.close();
    await gateway.stop(5000);
  }
}

async function main(): Promise<void> {
  const redis = await startRedisServer();
  try {
    const results: RunResult[] = [];
    for (const windowMs of WINDOWS) {
      const result = await run(windowMs, redis.url, redis.process.pid!);
      results.push(result);
      process.stderr.write(`window ${windowMs} ms: stored ${result.stored}, delivered ${result.delivered}\n`);
    }
    const rows = results.map(
      (r) =>
        `| ${r.windowMs === 0 ? 'none (plain reporter)' : `${r.windowMs} ms`} | ${r.jobSeconds.toFixed(1)} | ${r.stored.toLocaleString('en-US')} | ` +
        `${r.delivered.toLocaleString('en-US')} (${Math.round(r.framesPerClient)} per client) | ${r.redisCpuSeconds.toFixed(2)} | ${r.gatewayCpuSeconds.toFixed(2)} | ` +
        `${r.jobCpuSeconds.toFixed(2)} | ${r.lastProgressSeen ? 'yes' : 'NO'} | ${r.completedSeen ? 'yes' : 'NO'} |`,
    );
    const report = [
      `# S8: a job reporting ${UPDATES.toLocaleString('en-US')} times in ${SECONDS} s, with and without the coalescing window (${new Date().toISOString()})`,
      '',
      `One job (this process) calls updateProgressWithSteps ${UPDATES.toLocaleString('en-US')} times, paced over ${SECONDS} s and each awaited, with a`,
      `change of step half-way, then notifyTaskComplete; ${CLIENTS} WebSocket clients on one gateway (cluster entry point) follow the task.`,
      'CPU is seconds of CPU over the whole job (utime + stime from /proc) of redis-server, the gateway and this process (job + clients).',
      'Stored: progress events written (the completion\'s offset less the start and itself). A fresh gateway and task per row, one private Redis.',
      '2 shared cores: compare rows, not absolute figures.',
      '',
      '| minIntervalMs | job s | progress events stored | frames delivered (all clients) | redis CPU s | gateway CPU s | job + clients CPU s | last update stored | completion at every client |',
      '|---|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
      `Load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')} (2 cores, shared).`,
      '',
    ].join('\n');
    process.stdout.write(report);
    if (args.out) writeFileSync(args.out, report);
  } finally {
    await redis.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
