/** The worker's entry point as a real process: refuses to start without REDIS_URL, runs a job, stops on SIGTERM. */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { Queue, QueueEvents } from 'bullmq';
import { createRedisEngine } from '@taskpulse/engine';
import { startTsProcess, type ManagedProcess } from '@taskpulse/testkit';
import { uniquePrefix } from '@taskpulse/testkit/engines';
import { pino } from 'pino';
import { sequence } from './history';

const main = new URL('../src/main.ts', import.meta.url).pathname;
const processes: ManagedProcess[] = [];

/** Waits for the process to exit by itself. */
function exitCode(p: ManagedProcess): Promise<number | null> {
  if (p.child.exitCode !== null) return Promise.resolve(p.child.exitCode);
  return new Promise((resolve) => p.child.once('exit', (code) => resolve(code)));
}

afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.stop()));
});

describe('worker main.ts', () => {
  it('exits with a message naming REDIS_URL when it is missing or malformed', async () => {
    const missing = startTsProcess(main, { REDIS_URL: '' });
    processes.push(missing);
    expect(await exitCode(missing)).toBe(1);
    expect(missing.output()).toContain('REDIS_URL must be a Redis URL');

    const wrong = startTsProcess(main, { REDIS_URL: 'http://example.com' });
    processes.push(wrong);
    expect(await exitCode(wrong)).toBe(1);
    expect(wrong.output()).toMatch(/REDIS_URL must be .*redis:.*got "http:\/\/example.com"/);
  });

  it('consumes its queue until SIGTERM', async () => {
    const url = inject('redisUrl');
    const prefix = uniquePrefix();
    const queueName = `q${randomUUID().slice(0, 8)}`;
    const worker = startTsProcess(main, { REDIS_URL: url, KEY_PREFIX: prefix, QUEUE_NAME: queueName, STEP_DELAY_MS: '5', LOG_LEVEL: 'warn', AUTH_MODE: 'insecure' });
    processes.push(worker);
    await worker.waitForOutput(/worker ready/, 20_000);
    const queue = new Queue(queueName, { connection: { url } });
    const events = new QueueEvents(queueName, { connection: { url } });
    const engine = createRedisEngine({ url, prefix, logger: pino({ level: 'silent' }) });
    try {
      await events.waitUntilReady();
      const job = await queue.add('video_processing', {}, { jobId: 'from-main' });
      await job.waitUntilFinished(events, 20_000);
      expect(await sequence(engine, 'from-main')).toEqual(['running', '下载视频', '视频转码', '生成缩略图', '上传视频', 'completed']);
    } finally {
      await Promise.all([events.close(), queue.close(), engine.close()]);
    }
    expect(await worker.stop()).toBe(0);
  });
});
