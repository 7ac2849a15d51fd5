/**
 * The multi-event publish script against one run per event, A/B in one process and one Redis (issue 12
 * item 4): the same batches of 100 encoded progress events over 100 tasks, pipelined, 4 batches in flight,
 * sent by the Redis task store with 100 events per script run (A) or one (B, the pipeline of per-event
 * EVALSHAs publishBatch sent before). Rounds alternate; medians of events/s, Redis main-thread CPU per event
 * (INFO cpu), this process's CPU per event, and request bytes per event (INFO stats total_net_input_bytes).
 *
 *   npx tsx bench/src/micro/publish-batch-runs.ts [--seconds=2] [--rounds=5]
 */
import { loadavg } from 'node:os';
import { Redis } from 'ioredis';
import { encodeTaskEvent } from '@taskpulse/protocol';
import { startRedisServer } from '@taskpulse/testkit';
// the store itself, not the engine: the engine always runs 100 events per script run
import { RedisTaskStore } from '../../../packages/engine/src/redis-task-store';
import { defaultEngineLogger } from '../../../packages/engine/src/engine-logger';
import { median } from '../stats/median';
import { scriptArgs } from '../script-args';

const args = scriptArgs();
const SECONDS = Number(args.seconds ?? 2);
const ROUNDS = Number(args.rounds ?? 5);
const MESSAGE = '正在转码视频... item 12345 of 100000';

const server = await startRedisServer();
const redis = new Redis(server.url);
const probe = new Redis(server.url);

async function redisCounters(): Promise<{ cpu: number; bytes: number }> {
  const info = await probe.info();
  const value = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return { cpu: (value('used_cpu_sys_main_thread') + value('used_cpu_user_main_thread')) * 1e6, bytes: value('total_net_input_bytes') };
}

async function round(eventsPerRun: number, prefix: string) {
  const store = new RedisTaskStore(redis, prefix, Date.now, defaultEngineLogger(), 'single', { eventsPerRun });
  let n = 0;
  let events = 0;
  const before = await redisCounters();
  const cpu0 = process.cpuUsage();
  const started = Date.now();
  const until = started + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (Date.now() < until) {
        const batch = Array.from({ length: 100 }, () => {
          const i = n++;
          return { event: encodeTaskEvent({ kind: 'progress', taskId: `t${i % 100}`, progress: i % 100, message: MESSAGE }) };
        });
        const results = await store.publishBatch(batch);
        if (results.some((r) => r.status !== 'published')) throw new Error('an event was not published');
        events += batch.length;
      }
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const after = await redisCounters();
  return {
    perSecond: events / seconds,
    redisMicros: (after.cpu - before.cpu) / events,
    clientMicros: (cpu.user + cpu.system) / events,
    bytes: (after.bytes - before.bytes) / events,
  };
}

try {
  const variants = [
    { name: 'A: 100 events per script run', perRun: 100 },
    { name: 'B: one script run per event (pipelined)', perRun: 1 },
  ];
  for (const v of variants) await round(v.perRun, `warm${v.perRun}`);
  const results = new Map(variants.map((v) => [v.name, [] as Array<Awaited<ReturnType<typeof round>>>]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const v of variants) {
      const result = await round(v.perRun, `r${r}v${v.perRun}`);
      results.get(v.name)!.push(result);
      process.stderr.write(`round ${r + 1} ${v.name}: ${Math.round(result.perSecond)}/s\n`);
    }
  }
  const lines = [
    `publishBatch, 100 progress events per batch over 100 tasks, 4 batches in flight, ${SECONDS} s x ${ROUNDS} alternating rounds, medians (${new Date().toISOString()}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}):`,
    '',
    '| variant | events stored+published /s | Redis CPU µs per event | client CPU µs per event | request bytes per event |',
    '|---|---|---|---|---|',
    ...variants.map((v) => {
      const runs = results.get(v.name)!;
      const m = (f: (x: (typeof runs)[number]) => number) => median(runs.map(f));
      return `| ${v.name} | ${Math.round(m((x) => x.perSecond)).toLocaleString('en-US')} | ${m((x) => x.redisMicros).toFixed(1)} | ${m((x) => x.clientMicros).toFixed(1)} | ${Math.round(m((x) => x.bytes))} |`;
    }),
    '',
  ];
  process.stdout.write(lines.join('\n'));
} finally {
  redis.disconnect();
  probe.disconnect();
  await server.stop();
}
process.exit(0);
