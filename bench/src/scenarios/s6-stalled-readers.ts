/**
 * S6, standalone (issue 7, item 4): stalled readers beside healthy ones. One gateway process (the
 * cluster entry point) on a private Redis; this process publishes to busy tasks and holds the clients.
 * Two runs on a fresh gateway each: healthy clients alone (the baseline), then the same healthy clients
 * beside stalled ones, whose TCP readers are paused after they subscribed, so the gateway sees their
 * unsent bytes grow, moves them off their topics and conflates their progress frames. Reported: the
 * healthy clients' latency percentiles, the gateway's RSS over time, conflated frames, slow-consumer closes.
 * Bounded: every phase has a fixed duration, every wait a timeout; all processes are stopped at the end.
 *
 *   npx tsx bench/src/scenarios/s6-stalled-readers.ts [--healthy=1000] [--stalled=1000] [--tasks=100]
 *       [--rate=1000] [--seconds=25] [--out=bench/results/<file>.md]
 */
import { writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { createRedisEngine, type Engine } from '@taskpulse/engine';
import { encodeTaskEvent } from '@taskpulse/protocol';
import { freePort, startRedisServer, startTsProcess, waitFor, type ManagedProcess } from '@taskpulse/testkit';
import { markedMessage, nowMicros, readMark, sleep } from '../clock';
import { CLOCK_TICKS, serverRssBytes, treeCpuTicks } from '../proc/proc-stats';
import { Histogram, summarize, type LatencySummary } from '../stats/histogram';
import { scriptArgs } from '../script-args';

const args = scriptArgs();
const HEALTHY = Number(args.healthy ?? 1000);
const STALLED = Number(args.stalled ?? 1000);
const TASKS = Number(args.tasks ?? 100);
/** Progress events per second over all tasks. */
const RATE = Number(args.rate ?? 1000);
const SECONDS = Number(args.seconds ?? 25);
const WARMUP_SECONDS = 5;
/** Tasks each stalled reader subscribes to. */
const STALLED_SUBS = 10;
const PADDING = 'x'.repeat(1000);
const root = new URL('../../../', import.meta.url).pathname;

interface RunResult {
  stalled: number;
  latency: LatencySummary;
  delivered: number;
  rssMiB: { start: number; max: number; end: number };
  rssSeries: number[];
  conflated: number;
  slowSockets: number;
  slowConsumerCloses: number;
  stalledOpenAtEnd: number;
  published: number;
  /** Seconds from the first publish until every stalled reader was conflating. */
  secondsToSlow: number;
  /** CPU share (of one core) of the gateway and of this process (clients + publisher) over the measured window. */
  gatewayCpu: number;
  benchCpu: number;
}

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.slice(name.length + 1));
}

/** Opens a client and subscribes it to the tasks, resolving once every ack came. */
function openClient(port: number, taskIds: string[], onFrame?: (data: Buffer) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/ws`);
    let acks = 0;
    const timer = setTimeout(() => reject(new Error('client set-up timed out')), 30_000);
    ws.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    ws.on('open', () => {
      for (const taskId of taskIds) ws.send(JSON.stringify({ action: 'subscribe', task_id: taskId }));
    });
    ws.on('message', (data: Buffer) => {
      if (acks < taskIds.length && data.includes('"type":"ack"')) {
        acks += 1;
        if (acks === taskIds.length) {
          clearTimeout(timer);
          resolve(ws);
        }
        return;
      }
      onFrame?.(data);
    });
  });
}

async function connectMany(count: number, make: (i: number) => Promise<WebSocket>): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  for (let i = 0; i < count; i += 50) {
    sockets.push(...(await Promise.all(Array.from({ length: Math.min(50, count - i) }, (_, k) => make(i + k)))));
  }
  return sockets;
}

/** Publishes RATE progress events per second, round robin over the tasks, until `stop` is set. */
async function publishLoop(engine: Engine, taskIds: string[], state: { stop: boolean; published: number }): Promise<void> {
  const tickMs = 20;
  const perTick = Math.max(1, Math.round((RATE * tickMs) / 1000));
  let next = Date.now();
  let n = 0;
  while (!state.stop) {
    const batch = [];
    for (let i = 0; i < perTick; i++, n++) {
      const taskId = taskIds[n % taskIds.length]!;
      const event = encodeTaskEvent({ kind: 'progress', taskId, progress: n % 100, message: `${markedMessage(nowMicros())}${PADDING}` });
      batch.push(engine.publish(event));
    }
    await Promise.all(batch);
    state.published += batch.length;
    next += tickMs;
    const wait = next - Date.now();
    if (wait > 0) await sleep(wait);
    else next = Date.now(); // behind: do not burst to catch up
  }
}

async function run(stalled: number, redisUrl: string): Promise<RunResult> {
  const prefix = `s6${randomUUID().slice(0, 6)}`;
  const port = await freePort();
  const gateway: ManagedProcess = startTsProcess(
    `${root}apps/gateway/src/main.ts`,
    // A paused reader never answers a ping: a long interval keeps the dead-peer sweep out of this bench.
    { REDIS_URL: redisUrl, PORT: String(port), HOST: '127.0.0.1', KEY_PREFIX: prefix, LOG_LEVEL: 'warn', AUTH_MODE: 'insecure', PING_INTERVAL_SECONDS: '600' },
    [],
    ['--max-semi-space-size=4'],
  );
  const engine = createRedisEngine({ url: redisUrl, prefix });
  try {
    await engine.ready();
    await waitFor('gateway ready', async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok, 30_000, 100);
    const taskIds = Array.from({ length: TASKS }, (_, i) => `busy-${i}`);
    for (const taskId of taskIds) await engine.publish(encodeTaskEvent({ kind: 'start', taskId }));

    const histogram = new Histogram();
    let measuring = false;
    let delivered = 0;
    const healthy = await connectMany(HEALTHY, (i) =>
      openClient(port, [taskIds[i % TASKS]!], (data) => {
        if (!measuring) return;
        const mark = readMark(data);
        if (mark < 0) return;
        histogram.record(nowMicros() - mark);
        delivered += 1;
      }),
    );
    const stalledSockets = await connectMany(stalled, (i) =>
      openClient(port, Array.from({ length: STALLED_SUBS }, (_, k) => taskIds[(i * STALLED_SUBS + k) % TASKS]!)),
    );
    for (const ws of stalledSockets) (ws as unknown as { _socket: { pause(): void } })._socket.pause();

    const gatewayPid = gateway.child.pid!;
    const rssSeries: number[] = [];
    const sampleRss = () => rssSeries.push(Math.round(serverRssBytes(gatewayPid) / 1048576));
    sampleRss();
    const publishing = { stop: false, published: 0 };
    const loop = publishLoop(engine, taskIds, publishing);
    const sampler = setInterval(sampleRss, 1000);
    // Stalled readers in steady state: their kernel buffers are full and the gateway conflates them all.
    const fillStart = Date.now();
    for (let i = 0; i < 180 && (await metric(port, 'taskpulse_gateway_slow_sockets')) < stalled; i++) await sleep(1000);
    const secondsToSlow = (Date.now() - fillStart) / 1000;
    await sleep(WARMUP_SECONDS * 1000);
    const cpuBefore = { gateway: treeCpuTicks(gatewayPid), bench: process.cpuUsage(), at: Date.now() };
    const publishedBefore = publishing.published;
    measuring = true;
    await sleep(SECONDS * 1000);
    measuring = false;
    const elapsed = (Date.now() - cpuBefore.at) / 1000;
    const gatewayCpu = (treeCpuTicks(gatewayPid) - cpuBefore.gateway) / CLOCK_TICKS / elapsed;
    const benchUsage = process.cpuUsage(cpuBefore.bench);
    const benchCpu = (benchUsage.user + benchUsage.system) / 1e6 / elapsed;
    const publishedInWindow = publishing.published - publishedBefore;
    publishing.stop = true;
    await loop;
    clearInterval(sampler);
    sampleRss();

    const result: RunResult = {
      stalled,
      latency: summarize(histogram),
      delivered,
      rssMiB: { start: rssSeries[0]!, max: Math.max(...rssSeries), end: rssSeries.at(-1)! },
      rssSeries,
      conflated: await metric(port, 'taskpulse_gateway_conflated_frames_total'),
      slowSockets: await metric(port, 'taskpulse_gateway_slow_sockets'),
      slowConsumerCloses: await metric(port, 'taskpulse_gateway_slow_consumer_closes_total'),
      stalledOpenAtEnd: stalledSockets.filter((ws) => ws.readyState === WebSocket.OPEN).length,
      published: publishedInWindow,
      secondsToSlow,
      gatewayCpu,
      benchCpu,
    };
    for (const ws of [...healthy, ...stalledSockets]) ws.terminate();
    return result;
  } finally {
    await engine.close();
    await gateway.stop(5000);
  }
}

function table(results: RunResult[]): string {
  const rows = results.map(
    (r) =>
      `| ${r.stalled} | ${r.published} | ${r.delivered} | ${r.latency.p50} | ${r.latency.p99} | ${r.latency.p999} | ${r.latency.max} | ` +
      `${r.rssMiB.start} / ${r.rssMiB.max} / ${r.rssMiB.end} | ${r.conflated} | ${r.slowSockets} | ${r.slowConsumerCloses} | ${r.stalledOpenAtEnd} | ` +
      `${r.secondsToSlow.toFixed(0)} | ${(r.gatewayCpu * 100).toFixed(0)} % | ${(r.benchCpu * 100).toFixed(0)} % |`,
  );
  return [
    '| stalled readers | events published in window | healthy deliveries measured | p50 ms | p99 ms | p99.9 ms | max ms | gateway RSS MiB start / max / end | conflated frames | slow sockets at end | 4000 closes | stalled still open | s until all conflating | gateway CPU | bench process CPU |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

async function main(): Promise<void> {
  const redis = await startRedisServer();
  try {
    const results: RunResult[] = [];
    results.push(await run(0, redis.url));
    results.push(await run(STALLED, redis.url));
    const [base, withStalled] = results as [RunResult, RunResult];
    const ratio = withStalled.latency.p99 / base.latency.p99;
    const report = [
      `# S6: ${STALLED} stalled readers beside ${HEALTHY} healthy ones (${new Date().toISOString()})`,
      '',
      `${TASKS} busy tasks, ${RATE} progress events/s in total (frames of ~1.2 KB), ${SECONDS} s measured after ${WARMUP_SECONDS} s of warm-up;`,
      `each healthy client subscribes to 1 task, each stalled one to ${STALLED_SUBS} and then pauses its TCP reader;`,
      'the window starts once every stalled reader is conflating (its kernel buffers full: the steady state), plus the warm-up.',
      'Gateway: the cluster entry point (apps/gateway/src/main.ts) on a private Redis, default limits',
      '(SOFT_BACKPRESSURE_BYTES 64 KiB, MAX_BACKPRESSURE_BYTES 1 MiB), PING_INTERVAL_SECONDS=600 so the',
      'dead-peer sweep leaves the paused readers alone. Clients and publisher share this one process.',
      '',
      table(results),
      '',
      `Healthy p99 with stalled readers / without: ${ratio.toFixed(2)}x (target: at most 2x).`,
      `Gateway RSS per second, with stalled readers (MiB): ${withStalled.rssSeries.join(' ')}`,
      `Gateway RSS per second, baseline (MiB): ${base.rssSeries.join(' ')}`,
      `Load average at the end: ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')} (2 cores, shared).`,
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
