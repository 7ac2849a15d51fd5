/**
 * What one history read costs Redis and the API process, by way of reading: the engine's read-history
 * script, and alternatives. Redis CPU from INFO cpu (its own counters, not wall time: the machine is
 * shared), client CPU from process.cpuUsage, both over a fixed number of reads of a 100-event history.
 *
 *   npx tsx bench/src/micro/history-read-cost.ts [reads]
 */
import { createRedisEngine } from '@taskpulse/engine';
import { createReporter } from '@taskpulse/reporter';
import { startRedisServer } from '@taskpulse/testkit';
import { Redis } from 'ioredis';

const reads = Number(process.argv[2] ?? 20_000);
const redisServer = await startRedisServer();
const prefix = 'hrc';
const engine = createRedisEngine({ url: redisServer.url, prefix });
await engine.ready(10_000);
const reporter = createReporter(engine);
await reporter.notifyTaskStart('t1', 'u1', 'p1');
for (let i = 0; i < 100; i++) await reporter.updateProgress('t1', i, `a message of ordinary length, step ${i} of 100`);
const redis = new Redis(redisServer.url);

async function redisCpuMicros(): Promise<number> {
  const info = await redis.info('cpu');
  const value = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return (value('used_cpu_sys_main_thread') + value('used_cpu_user_main_thread')) * 1e6;
}

async function measure(name: string, read: () => Promise<unknown>, inflight = 32): Promise<void> {
  for (let i = 0; i < 500; i++) await read();
  const r0 = await redisCpuMicros();
  const c0 = process.cpuUsage();
  let next = 0;
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (next++ < reads) await read();
    }),
  );
  const c = process.cpuUsage(c0);
  const r = (await redisCpuMicros()) - r0;
  process.stdout.write(`${name.padEnd(40)} redis ${(r / reads).toFixed(1).padStart(6)} µs/read   client ${((c.user + c.system) / reads).toFixed(1).padStart(6)} µs/read\n`);
}

const history = 'hrc:{t:t1}:h';
const meta = 'hrc:{t:t1}:m';
for (const limit of [20, 100]) {
  await measure(`engine.history limit=${limit} (lua)`, () => engine.history('t1', limit));
  await measure(`MULTI HMGET+XREVRANGE limit=${limit}`, () =>
    redis.multi().hmget(meta, '_offset', '_epoch').xrevrangeBuffer(history, '+', '-', 'COUNT', limit).exec(),
  );
}
// What a history read costs while the task has not moved: the API answers from its cache after this one read.
await measure('engine.snapshot (cached history hit)', () => engine.snapshot('t1'));
await engine.close();
redis.disconnect();
await redisServer.stop();
