/**
 * What one stored task event costs Redis: publishes a fixed event mix through the Redis engine on a private
 * redis-server, pipelined from this one process, and reads the publish script's `INFO commandstats`
 * (usec_per_call of EVALSHA) and Redis's own CPU time. Bounded in count and time; prints one JSON line per
 * round and a summary. `npx tsx bench/src/publish-cost/publish-script-cost.ts [tasks] [rounds] [inFlight]`;
 * bench/src/publish-cost/callgrind.sh counts Redis's instructions per EVALSHA the same way.
 */
import { createRedisEngine } from '@taskpulse/engine';
import { encodeTaskEvent, type TaskEvent } from '@taskpulse/protocol';
import { startRedisServer } from '@taskpulse/testkit';
import { Redis } from 'ioredis';

const TASKS = Number(process.argv[2] ?? 300);
const ROUNDS = Number(process.argv[3] ?? 3);
const IN_FLIGHT = Number(process.argv[4] ?? 256);
const MAX_ROUND_MS = 60_000;
const STEPS = 4;

/** Per task: start, 20 percent-and-message updates, 10 step updates, complete: the guide's usual mix. */
function eventsOf(taskId: string): TaskEvent[] {
  const events: TaskEvent[] = [{ kind: 'start', taskId, userId: 'user-123', projectId: 'project-456' }];
  for (let i = 1; i <= 30; i++) {
    if (i % 3 === 0) {
      const done = Math.min(STEPS, Math.floor(i / 8));
      events.push({ kind: 'progress', taskId, progress: i * 3, currentStep: `step ${done + 1}`, completedSteps: done, totalSteps: STEPS, message: `正在处理 ${i}` });
    } else {
      events.push({ kind: 'progress', taskId, progress: i * 3, message: `处理进度: ${i * 3}%` });
    }
  }
  events.push({ kind: 'complete', taskId, result: { video_url: `https://example.com/${taskId}.mp4` } });
  return events;
}

/** Events of all tasks interleaved, as many workers would send them. */
function eventMix(round: number): TaskEvent[] {
  const perTask = Array.from({ length: TASKS }, (_, i) => eventsOf(`bench-${round}-${i}`));
  const mixed: TaskEvent[] = [];
  for (let i = 0; i < perTask[0]!.length; i++) for (const events of perTask) mixed.push(events[i]!);
  return mixed;
}

function info(text: string, key: string): number {
  const match = new RegExp(`${key}[:=]([0-9.]+)`).exec(text);
  return match ? Number(match[1]) : Number.NaN;
}

async function main(): Promise<void> {
  // PUBLISH_COST_REDIS_URL: a redis-server started apart (e.g. under valgrind --tool=callgrind to count instructions)
  const external = process.env.PUBLISH_COST_REDIS_URL;
  const server = external ? undefined : await startRedisServer();
  const url = external ?? server!.url;
  const admin = new Redis(url);
  const engine = createRedisEngine({ url, prefix: 'pc', redisOptions: { commandTimeout: 60_000 } });
  const rounds: Array<Record<string, number>> = [];
  try {
    await engine.publish(encodeTaskEvent({ kind: 'start', taskId: 'warm-up' }));
    for (let round = 0; round < ROUNDS; round++) {
      const events = eventMix(round);
      await admin.config('RESETSTAT');
      const cpuBefore = await admin.info('cpu');
      const inputBefore = info(await admin.info('stats'), 'total_net_input_bytes');
      const started = performance.now();
      let next = 0;
      const worker = async () => {
        while (next < events.length && performance.now() - started < MAX_ROUND_MS) {
          const event = events[next++]!;
          await engine.publish(encodeTaskEvent(event));
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
      const seconds = (performance.now() - started) / 1000;
      const stats = await admin.info('commandstats');
      const cpuAfter = await admin.info('cpu');
      const inputAfter = info(await admin.info('stats'), 'total_net_input_bytes');
      const cpu = (text: string) => info(text, 'used_cpu_user') + info(text, 'used_cpu_sys');
      const calls = info(stats, 'cmdstat_evalsha:calls');
      rounds.push({
        events: calls,
        usecPerCall: info(stats, 'cmdstat_evalsha:calls=\\d+,usec=\\d+,usec_per_call'),
        redisCpuUsecPerEvent: ((cpu(cpuAfter) - cpu(cpuBefore)) * 1e6) / calls,
        eventsPerSecond: calls / seconds,
        requestBytesPerEvent: (inputAfter - inputBefore) / calls,
      });
      process.stdout.write(`${JSON.stringify(rounds.at(-1))}\n`);
    }
  } finally {
    await engine.close();
    admin.disconnect();
    await server?.stop();
  }
  const median = (key: string) => {
    const sorted = rounds.map((r) => r[key]!).sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)]!;
  };
  process.stdout.write(
    `median of ${ROUNDS} rounds of ${rounds[0]?.events} events: EVALSHA ${median('usecPerCall').toFixed(2)} usec/call, ` +
      `Redis CPU ${median('redisCpuUsecPerEvent').toFixed(1)} usec/event, ${Math.round(median('requestBytesPerEvent'))} request bytes/event, ${Math.round(median('eventsPerSecond'))} events/s\n`,
  );
}

await main();
