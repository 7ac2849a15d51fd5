/**
 * S7 (issue 12, item 4): events stored and published per second from one reporter and from one API
 * process, against the plain PUBLISH floor of the same Redis in the same run. `npm run bench` runs it once
 * after the passes (run.ts, `--scenarios=s7`); s7-publish-rate.ts is the standalone command.
 *
 * One private redis-server; one raw subscriber socket subscribed to every task channel of a phase (so each
 * PUBLISH fans out to one subscriber, for the floor and for ours alike; it counts the messages it gets);
 * the API (apps/api/src/main.ts) as its own process. Each phase runs for a fixed time over 100 tasks,
 * round robin, and then counts what was stored (the tasks' offsets) and delivered. Phases alternate over
 * `--rounds`, and the table gives the median of each, so machine noise hits all phases alike.
 */
import { connect, type Socket } from 'node:net';
import { loadavg } from 'node:os';
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { createRedisEngine, type RedisEngine } from '@taskpulse/engine';
import { fillTaskFrame, taskChannel, taskFrameTemplate, type SnapshotTexts } from '@taskpulse/protocol';
import { createReporter } from '@taskpulse/reporter';
import { freePort, startRedisServer, startTsProcess, waitFor, type ManagedProcess } from '@taskpulse/testkit';
import { sleep } from '../clock';
import { CLOCK_TICKS, treeCpuTicks } from '../proc/proc-stats';
import { median } from '../stats/median';

/** How long and how often S7 measures. */
export interface PublishRateOptions {
  /** Seconds per phase. */
  seconds: number;
  /** Alternating rounds over all phases; every figure is the median. */
  rounds: number;
  /** Events per batch (reporter.publishBatch, POST /api/v1/events) and PUBLISH per pipeline. */
  batch: number;
  /** Progress lines (stderr by default). */
  log?: (line: string) => void;
}

/** One phase's medians. */
export interface PublishRatePhase {
  name: string;
  what: string;
  /** Events stored and published per second (floor: PUBLISH calls made). */
  perSecond: number;
  delivered: number;
  stored: number;
  /** Share of one core, medians. */
  redisCpu: number;
  apiCpu?: number;
  benchCpu: number;
  /** µs of CPU per event, medians. */
  redisMicros: number;
  clientMicros: number;
}

/** What S7 measured: the phases (the first is the pipelined PUBLISH floor), the commandstats, the load. */
export interface PublishRateResult {
  at: string;
  options: Omit<PublishRateOptions, 'log'>;
  tasks: number;
  frameBytes: number;
  messageBytes: number;
  phases: PublishRatePhase[];
  commandStats: string[];
  loadAverage: number[];
}

/** The floor the target compares with: pipelined PUBLISH of ready frames from one ioredis client. */
export const FLOOR_PHASE = 'PUBLISH floor, pipelined';
/** The reporter's batched path (one target row). */
export const REPORTER_BATCH_PHASE = 'reporter.publishBatch';
/** The API's batched path (one target row). */
export const API_BATCH_PHASE = 'API, POST /api/v1/events';

const TASKS = 100;
/** Requests or calls in flight where a phase is concurrent. */
const IN_FLIGHT = 100;
/** API batch requests in flight. */
const API_BATCHES_IN_FLIGHT = 8;
const MESSAGE = '正在转码视频... item 12345 of 100000';
const root = new URL('../../../', import.meta.url).pathname;

interface PhaseResult {
  stored: number;
  delivered: number;
  seconds: number;
  redisCpu: number;
  apiCpu: number;
  benchCpu: number;
}

interface Phase {
  name: string;
  what: string;
  /** Sends events until `until` (ms since epoch); the prefix and task ids are the phase's own. */
  run(prefix: string, taskIds: string[], until: number): Promise<void>;
  /** PUBLISH-only phases store nothing: their rate is what was sent. */
  storesNothing?: boolean;
  /** Fixed prefix (the API process has one). */
  prefix?: string;
}

/** A raw RESP subscriber: SUBSCRIBEs channels and counts `message` pushes without decoding them. */
class CountingSubscriber {
  delivered = 0;
  private tail: Buffer = Buffer.alloc(0);
  private static readonly MARK = Buffer.from('\r\n$7\r\nmessage\r\n');

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      const data = this.tail.length > 0 ? Buffer.concat([this.tail, chunk]) : chunk;
      for (let at = data.indexOf(CountingSubscriber.MARK); at >= 0; at = data.indexOf(CountingSubscriber.MARK, at + 1)) this.delivered += 1;
      this.tail = data.subarray(Math.max(0, data.length - CountingSubscriber.MARK.length + 1));
    });
  }

  static async open(port: number): Promise<CountingSubscriber> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new CountingSubscriber(socket);
  }

  subscribe(channels: string[]): void {
    const parts = ['SUBSCRIBE', ...channels];
    this.socket.write(`*${parts.length}\r\n${parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join('')}`);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Runs `send` with `width` loops in parallel until `until`. */
async function loops(width: number, until: number, send: (n: number) => Promise<unknown>): Promise<void> {
  let n = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (Date.now() < until) await send(n++);
    }),
  );
}

function frameOf(taskId: string, seq: number): string {
  const fields: SnapshotTexts = {
    progress: String(seq % 100),
    message: JSON.stringify(MESSAGE),
    status: '"running"',
    timestamp: JSON.stringify(new Date().toISOString()),
  };
  return fillTaskFrame(taskFrameTemplate('progress', taskId, fields, Date.now()), seq, 'bench', fields);
}

/** Runs S7 on a private redis-server and API process of its own; everything it starts is stopped. */
export async function measurePublishRate(options: PublishRateOptions): Promise<PublishRateResult> {
  const { seconds: SECONDS, rounds: ROUNDS, batch: BATCH } = options;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const redis = await startRedisServer();
  const apiPort = await freePort();
  const apiPrefix = `s7api${randomUUID().slice(0, 4)}`;
  const api: ManagedProcess = startTsProcess(`${root}apps/api/src/main.ts`, {
    REDIS_URL: redis.url,
    PORT: String(apiPort),
    HOST: '127.0.0.1',
    KEY_PREFIX: apiPrefix,
    LOG_LEVEL: 'warn',
    AUTH_MODE: 'insecure',
    CLEANUP_INTERVAL_MS: '0',
  });
  const raw = new Redis(redis.url);
  const subscriber = await CountingSubscriber.open(redis.port);
  const engines: RedisEngine[] = [];
  const engineFor = async (prefix: string) => {
    const engine = createRedisEngine({ url: redis.url, prefix });
    engines.push(engine);
    await engine.ready();
    return engine;
  };
  const apiBase = `http://127.0.0.1:${apiPort}`;
  /** POSTs what `next` gives with autocannon (far cheaper per request than fetch) until `until`; any non-2xx fails the phase. */
  const hammer = async (until: number, connections: number, next: () => { path: string; body: string }) => {
    const result = await autocannon({
      url: apiBase,
      connections,
      duration: Math.max(1, (until - Date.now()) / 1000),
      renderProgressBar: false,
      requests: [{ method: 'POST', headers: { 'content-type': 'application/json' }, setupRequest: (request) => ({ ...request, ...next() }) }],
    });
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`API answered ${result.non2xx} non-2xx and ${result.errors} errors`);
  };

  const phases: Phase[] = [
    {
      name: FLOOR_PHASE,
      what: `one ioredis client, pipelines of ${BATCH} PUBLISH of ready frames (no storage)`,
      storesNothing: true,
      async run(prefix, taskIds, until) {
        for (let n = 0; Date.now() < until; ) {
          const pipeline = raw.pipeline();
          for (let i = 0; i < BATCH; i++, n++) pipeline.publish(taskChannel(prefix, taskIds[n % TASKS]!), frameOf(taskIds[n % TASKS]!, n));
          await pipeline.exec();
          published += BATCH;
        }
      },
    },
    {
      name: 'PUBLISH floor, one call each',
      what: `one ioredis client, ${IN_FLIGHT} PUBLISH calls in flight (the bare ceiling's way)`,
      storesNothing: true,
      run: (prefix, taskIds, until) =>
        loops(IN_FLIGHT, until, async (n) => {
          await raw.publish(taskChannel(prefix, taskIds[n % TASKS]!), frameOf(taskIds[n % TASKS]!, n));
          published += 1;
        }),
    },
    {
      name: 'reporter, one call each',
      what: `reporter.updateProgress, ${IN_FLIGHT} in flight (one EVALSHA each)`,
      async run(prefix, taskIds, until) {
        const reporter = createReporter(await engineFor(prefix));
        await loops(IN_FLIGHT, until, (n) => reporter.updateProgress(taskIds[n % TASKS]!, n % 100, MESSAGE));
      },
    },
    {
      name: REPORTER_BATCH_PHASE,
      what: `batches of ${BATCH} events, 4 batches in flight (one EVALSHA per 100 events of a batch)`,
      async run(prefix, taskIds, until) {
        const reporter = createReporter(await engineFor(prefix));
        let n = 0;
        await loops(4, until, async () => {
          const items = Array.from({ length: BATCH }, () => {
            const i = n++;
            return { event: { kind: 'progress' as const, taskId: taskIds[i % TASKS]!, progress: i % 100, message: MESSAGE } };
          });
          const results = await reporter.publishBatch(items);
          if (results.some((r) => r.status !== 'published')) throw new Error('a batch event was not published');
        });
      },
    },
    {
      name: 'API, POST /api/v1/progress/:id',
      what: `one API process, autocannon with ${IN_FLIGHT} connections (one event per request)`,
      prefix: apiPrefix,
      async run(_prefix, taskIds, until) {
        let n = 0;
        await hammer(until, IN_FLIGHT, () => {
          const i = n++;
          return { path: `/api/v1/progress/${taskIds[i % TASKS]!}`, body: JSON.stringify({ progress: i % 100, message: MESSAGE }) };
        });
      },
    },
    {
      name: API_BATCH_PHASE,
      what: `one API process, autocannon with ${API_BATCHES_IN_FLIGHT} connections, bodies of ${BATCH} events`,
      prefix: apiPrefix,
      async run(_prefix, taskIds, until) {
        let n = 0;
        await hammer(until, API_BATCHES_IN_FLIGHT, () => {
          const events = Array.from({ length: BATCH }, () => {
            const i = n++;
            return { type: 'progress', task_id: taskIds[i % TASKS]!, progress: i % 100, message: MESSAGE };
          });
          return { path: '/api/v1/events', body: JSON.stringify({ events }) };
        });
      },
    },
  ];

  let published = 0;
  async function runPhase(phase: Phase): Promise<PhaseResult> {
    const prefix = phase.prefix ?? `s7${randomUUID().slice(0, 6)}`;
    const taskIds = Array.from({ length: TASKS }, (_, i) => `t${randomUUID().slice(0, 6)}-${i}`);
    subscriber.subscribe(taskIds.map((taskId) => taskChannel(prefix, taskId)));
    await waitFor('subscriber on the phase channels', async () => {
      const counts = (await raw.call('PUBSUB', 'NUMSUB', taskChannel(prefix, taskIds.at(-1)!))) as [string, number];
      return Number(counts[1]) === 1;
    }, 10_000, 20);
    await sleep(200);
    published = 0;
    const deliveredBefore = subscriber.delivered;
    const cpuBefore = { redis: treeCpuTicks(redis.process.pid!), api: treeCpuTicks(api.child.pid!), bench: process.cpuUsage() };
    const started = Date.now();
    await phase.run(prefix, taskIds, started + SECONDS * 1000);
    const seconds = (Date.now() - started) / 1000;
    const redisCpu = (treeCpuTicks(redis.process.pid!) - cpuBefore.redis) / CLOCK_TICKS / seconds;
    const apiCpu = (treeCpuTicks(api.child.pid!) - cpuBefore.api) / CLOCK_TICKS / seconds;
    const bench = process.cpuUsage(cpuBefore.bench);
    let stored = published;
    if (!phase.storesNothing) {
      // requests the load generator had in flight when it stopped still land: let them, then count
      await sleep(500);
      const reader = await engineFor(prefix);
      stored = 0;
      for (const taskId of taskIds) stored += (await reader.snapshot(taskId))?.offset ?? 0;
    }
    // every stored event was published once: wait until the subscriber has them all (bounded)
    await waitFor(`deliveries of ${phase.name}`, () => subscriber.delivered - deliveredBefore >= stored, 15_000, 20).catch(() => undefined);
    return { stored, delivered: subscriber.delivered - deliveredBefore, seconds, redisCpu, apiCpu, benchCpu: (bench.user + bench.system) / 1e6 / seconds };
  }

  try {
    await waitFor('api ready', async () => (await fetch(`${apiBase}/readyz`).catch(() => undefined))?.ok, 30_000, 100);
    await raw.config('RESETSTAT');
    const results = new Map<string, PhaseResult[]>(phases.map((p) => [p.name, []]));
    // a short warm-up of every path (JIT, script cache, connections), not measured
    for (const phase of phases) await phase.run(`s7warm`, Array.from({ length: TASKS }, (_, i) => `w${i}`), Date.now() + 300);
    await raw.config('RESETSTAT');
    for (let round = 0; round < ROUNDS; round++) {
      for (const phase of phases) {
        const result = await runPhase(phase);
        results.get(phase.name)!.push(result);
        log(`S7 round ${round + 1} ${phase.name}: ${Math.round(result.stored / result.seconds)}/s (delivered ${result.delivered}/${result.stored})`);
      }
    }
    const commandStats = (await raw.info('commandstats'))
      .split('\n')
      .filter((line) => /^cmdstat_(evalsha|publish|eval|script):/.test(line))
      .map((line) => line.trim());
    const phaseResults = phases.map((phase): PublishRatePhase => {
      const runs = results.get(phase.name)!;
      // CPU per event is what a loaded machine distorts least: share of a core x seconds / events
      const micros = (cpu: (r: PhaseResult) => number) => median(runs.map((r) => (cpu(r) * r.seconds * 1e6) / Math.max(1, r.stored)));
      return {
        name: phase.name,
        what: phase.what,
        perSecond: median(runs.map((r) => r.stored / r.seconds)),
        delivered: runs.reduce((sum, r) => sum + r.delivered, 0),
        stored: runs.reduce((sum, r) => sum + r.stored, 0),
        redisCpu: median(runs.map((r) => r.redisCpu)),
        ...(phase.prefix ? { apiCpu: median(runs.map((r) => r.apiCpu)) } : {}),
        benchCpu: median(runs.map((r) => r.benchCpu)),
        redisMicros: micros((r) => r.redisCpu),
        clientMicros: micros((r) => r.benchCpu + (phase.prefix ? r.apiCpu : 0)),
      };
    });
    return {
      at: new Date().toISOString(),
      options: { seconds: SECONDS, rounds: ROUNDS, batch: BATCH },
      tasks: TASKS,
      frameBytes: Buffer.byteLength(frameOf('t00000-00', 1)),
      messageBytes: Buffer.byteLength(MESSAGE),
      phases: phaseResults,
      commandStats,
      loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    };
  } finally {
    subscriber.close();
    raw.disconnect();
    await Promise.all(engines.map((engine) => engine.close()));
    await api.stop(5000);
    await redis.stop();
  }
}

/** The S7 table and its notes, as Markdown (the standalone report, and a section of the bench report). */
export function publishRateMarkdown(result: PublishRateResult): string[] {
  const { seconds, rounds } = result.options;
  const floor = result.phases[0]?.perSecond ?? 0;
  const callFloor = result.phases[1]?.perSecond ?? 0;
  const pct = (x: number) => `${Math.round(x * 100)} %`;
  const rows = result.phases.map(
    (p) =>
      `| ${p.name} | ${Math.round(p.perSecond).toLocaleString('en-US')} | ${pct(p.perSecond / floor)} | ${pct(p.perSecond / callFloor)} | ` +
      `${p.delivered >= p.stored ? 'all' : `${p.delivered} of ${p.stored}`} | ${pct(p.redisCpu)} | ${p.apiCpu === undefined ? '-' : pct(p.apiCpu)} | ` +
      `${pct(p.benchCpu)} | ${p.redisMicros.toFixed(1)} | ${p.clientMicros.toFixed(1)} | ${p.what} |`,
  );
  return [
    `${result.tasks} tasks round robin, progress events with a ${result.messageBytes}-byte message (frames ~${result.frameBytes} B);`,
    `each phase ${seconds} s, ${rounds} rounds alternating, medians shown; one raw subscriber socket on every channel of a phase,`,
    "so each PUBLISH (floor and ours) fans out once. Stored = sum of the tasks' offsets after the phase (floor: PUBLISH calls made);",
    'delivered = messages the subscriber counted. CPU = share of one core over the phase (redis-server, the API process, the bench process:',
    'the load generator, and the reporter where the phase runs it). One private redis-server; 2 shared cores: absolute figures are noisy,',
    'ratios within one run and CPU per event are what to read.',
    '',
    '| path | events stored+published /s | vs PUBLISH floor, pipelined | vs PUBLISH floor, one call each | delivered | redis CPU | API CPU | bench process CPU | redis CPU µs per event | client CPU µs per event (bench + API) | how |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    'Redis INFO commandstats over the measured rounds:',
    '',
    ...result.commandStats.map((line) => `    ${line}`),
    '',
    `Load average at the end: ${result.loadAverage.map((l) => l.toFixed(2)).join(' ')} (2 cores, shared with other work).`,
    '',
  ];
}
