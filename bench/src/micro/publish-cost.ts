/**
 * What one stored and published task event costs the Redis shard that owns it: Redis main-thread CPU
 * (INFO cpu, its own counters, not wall time) per engine publish (the publish-task-events script: stream
 * append, snapshot, expiry, index, PUBLISH), with 0, 1, 4 and 16 subscriber connections on the task's
 * channel (each stands for one gateway that has a subscriber of that task). Input of docs/capacity.md.
 *
 *   npx tsx bench/src/micro/publish-cost.ts [events]
 */
import { createRedisEngine } from '@taskpulse/engine';
import { createReporter } from '@taskpulse/reporter';
import { startRedisServer } from '@taskpulse/testkit';
import { taskChannel } from '@taskpulse/protocol';
import { Redis } from 'ioredis';

const events = Number(process.argv[2] ?? 20_000);
const server = await startRedisServer();
const engine = createRedisEngine({ url: server.url, prefix: 'pc' });
await engine.ready(10_000);
const reporter = createReporter(engine);
const probe = new Redis(server.url);
const subscribers: Redis[] = [];

async function redisCpuMicros(): Promise<number> {
  const info = await probe.info('cpu');
  const value = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return (value('used_cpu_sys_main_thread') + value('used_cpu_user_main_thread')) * 1e6;
}

const tasks = Array.from({ length: 100 }, (_, i) => `t${i}`);
for (const t of tasks) await reporter.notifyTaskStart(t, 'u', 'p');
for (const gateways of [0, 1, 4, 16]) {
  while (subscribers.length < gateways) {
    const sub = new Redis(server.url);
    sub.on('messageBuffer', () => undefined);
    await sub.subscribe(...tasks.map((t) => taskChannel("pc", t)));
    subscribers.push(sub);
  }
  let next = 0;
  const r0 = await redisCpuMicros();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < events) {
        const i = next++;
        await reporter.updateProgress(tasks[i % tasks.length]!, i % 100, `a message of ordinary length, step ${i}`);
      }
    }),
  );
  const perEvent = ((await redisCpuMicros()) - r0) / events;
  const received = await probe.pubsub('NUMSUB', taskChannel("pc", tasks[0]!));
  process.stdout.write(`${gateways} subscribed gateways (NUMSUB ${String(received[1])}): Redis ${perEvent.toFixed(1)} µs per stored + published event\n`);
}
for (const s of subscribers) s.disconnect();
probe.disconnect();
await engine.close();
await server.stop();
