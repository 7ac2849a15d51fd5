/**
 * A publisher process: opens one system's publishing path (sender.ts) and sends events at an offered
 * rate, or broadcast probes, or a history prefill, on command. Every event's message carries its send
 * time (clock.ts), so receivers measure reporter call to client receive.
 */
import { markedMessage, nowMicros, sleep } from '../clock';
import { serveControl } from '../control/control-client';
import type { PublisherCommands } from '../control/commands';
import { eachLimited, pace } from './pacer';
import { createSender, type SystemName } from './sender';

const system = process.env.SYSTEM as SystemName;
const sender = await createSender(system, process.env.REDIS_URL ?? '', process.env.KEY_PREFIX ?? 'tp');
let seq = 0;

serveControl<PublisherCommands>(
  {
    async startTasks({ tasks }) {
      const t0 = performance.now();
      const errors = await eachLimited(tasks, 200, ([task, user, project]) => sender.startTask(task, user, project));
      return { ms: Math.round(performance.now() - t0), errors };
    },
    async stream({ rate, tasks, windowStart, windowEnd, maxInflight }) {
      let sentInWindow = 0;
      const result = await pace(rate, windowEnd, maxInflight, (i) => {
        const now = nowMicros();
        if (now >= windowStart && now <= windowEnd) sentInWindow++;
        return sender.taskEvent(tasks[i % tasks.length]!, ++seq, markedMessage(now));
      });
      const windowSeconds = (windowEnd - windowStart) / 1e6;
      return { ...result, sentInWindow, achievedRate: Math.round(sentInWindow / windowSeconds) };
    },
    async probe({ kind, target, taskId, count, intervalMs }) {
      const sendTimes: number[] = [];
      let errors = 0;
      let firstError: string | undefined;
      for (let i = 0; i < count; i++) {
        const now = nowMicros();
        sendTimes.push(now);
        try {
          await (kind === 'task'
            ? sender.taskEvent(taskId, ++seq, markedMessage(now))
            : sender.broadcast(kind, target, taskId, ++seq, markedMessage(now)));
        } catch (error) {
          errors++;
          firstError ??= error instanceof Error ? error.message : String(error);
        }
        await sleep(Math.max(0, intervalMs - (nowMicros() - now) / 1000));
      }
      return { sendTimes, errors, ...(firstError ? { firstError } : {}) };
    },
    async prefill({ tasks, events }) {
      const t0 = performance.now();
      let errors = 0;
      for (let round = 0; round < events; round++) {
        errors += await eachLimited(tasks, 100, (task) => sender.taskEvent(task, ++seq, `prefill ${round}`));
      }
      return { ms: Math.round(performance.now() - t0), errors };
    },
  },
  () => void sender.close().finally(() => process.exit(0)),
);
process.stdout.write(`publisher ready system=${system}\n`);
