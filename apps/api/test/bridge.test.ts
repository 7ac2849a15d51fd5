/** BRIDGE_QUEUES: plain BullMQ jobs (no taskpulse code in the worker) show up in the API through the bridge. */
import { randomUUID } from 'node:crypto';
import { afterEach, expect, inject, it } from 'vitest';
import { Queue, Worker } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { createRedisEngine, type RedisEngine } from '@taskpulse/engine';
import { waitFor } from '@taskpulse/testkit';
import { uniquePrefix, testLogger } from '@taskpulse/testkit/engines';
import { build } from '../src/build';

let app: FastifyInstance | undefined;
let engine: RedisEngine | undefined;
let queue: Queue | undefined;
let worker: Worker | undefined;

afterEach(async () => {
  await worker?.close();
  await app?.close();
  await queue?.close();
  await engine?.close();
});

it('reports a plain BullMQ job of a bridged queue', async () => {
  const url = inject('redisUrl');
  const queueName = `plain${randomUUID().slice(0, 8)}`;
  engine = createRedisEngine({ url, prefix: uniquePrefix(), logger: testLogger });
  await engine.ready();
  app = await build({ engine, redisUrl: url, bridgeQueues: [queueName], logger: testLogger });
  await app.ready();
  expect(app.bridges.map((b) => b.queueName)).toEqual([queueName]);
  await Promise.all(app.bridges.map((b) => b.ready()));

  queue = new Queue(queueName, { connection: { url } });
  worker = new Worker(
    queueName,
    async (job) => {
      await job.updateProgress({ progress: 50, message: 'half way', current_step: 'resize' });
      return { thumbnails: 3 };
    },
    { connection: { url } },
  );
  await queue.add('resize', { user_id: 'user-123' }, { jobId: 'plain-job-1' });
  const latest = await waitFor('the bridged job to complete', async () => {
    const res = await app!.inject('/api/v1/progress/plain-job-1');
    return res.statusCode === 200 && res.json().status === 'completed' ? res.json() : null;
  }, 20_000);
  expect(latest).toMatchObject({ result: { thumbnails: 3 }, user_id: 'user-123', current_step: 'resize' });
  const history = (await app.inject('/api/v1/progress/plain-job-1/history')).json();
  expect(history.items.map((f: any) => f.payload.status)).toEqual(['completed', 'running', 'running']);
  // The bridge's counts are scraped with the API's metrics: start, progress and complete were published.
  const metrics = (await app.inject('/metrics')).body;
  expect(metrics).toContain(`taskpulse_api_bridge_events_total{queue="${queueName}",outcome="published"} 3`);
  expect(metrics).toContain(`taskpulse_api_bridge_events_total{queue="${queueName}",outcome="error"} 0`);
});
