/** Fills `TASKS` tasks (h0, h1, ...) with `EVENTS` progress events each on REDIS_URL / KEY_PREFIX: read benchmarks' data. */
import { createRedisEngine } from '@taskpulse/engine';
import { createReporter } from '@taskpulse/reporter';

const engine = createRedisEngine({ url: process.env.REDIS_URL ?? '', prefix: process.env.KEY_PREFIX ?? 'tp' });
await engine.ready(5000);
const reporter = createReporter(engine);
const tasks = Number(process.env.TASKS ?? 100);
const events = Number(process.env.EVENTS ?? 100);
for (let t = 0; t < tasks; t++) {
  await reporter.notifyTaskStart(`h${t}`, 'u-reader', 'p-reader');
  for (let i = 0; i < events - 1; i++) await reporter.updateProgress(`h${t}`, i % 100, `bench prefill ${i}`);
}
await engine.close();
