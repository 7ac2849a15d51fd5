/**
 * BullMQ around the API: `app.demoJobs` (the demo queue with Redis, the in-process runner without) and
 * one bridge per BRIDGE_QUEUES queue. What this plugin created it closes with the app; a `demo` passed in
 * stays the caller's. Registered after the engine plugin: it reports through `app.reporter`.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ConnectionOptions } from 'bullmq';
import { startBullmqBridge, type BullmqBridge } from '@taskpulse/reporter';
import { createInProcessRunner, VIDEO_QUEUE } from '@taskpulse/worker';
import type { Logger } from 'pino';
import { createQueueDemoJobs, type DemoJobs } from '../demo-queue';
import { shared } from './skip-override';

declare module 'fastify' {
  interface FastifyInstance {
    demoJobs: DemoJobs;
    bridges: readonly BullmqBridge[];
  }
}

export interface JobsPluginOptions {
  /** BullMQ's Redis; without it demo jobs run in process and no bridge runs. */
  connection?: ConnectionOptions;
  /** Queue demo jobs go to (default video_processing). */
  demoQueue?: string;
  /** Queues whose plain BullMQ jobs the bridge reports (default none). */
  bridgeQueues?: string[];
  /** Use this instead of creating a demo queue or runner; the app will not close it. */
  demo?: DemoJobs;
  /** Step duration of in-process demo jobs, ms. */
  stepMs?: number;
}

export const jobsPlugin: FastifyPluginAsync<JobsPluginOptions> = shared(async (app, options) => {
  const logger = app.log as unknown as Logger;
  const { connection } = options;
  let demo = options.demo;
  if (demo === undefined) {
    demo =
      connection === undefined
        ? createInProcessRunner(app.reporter, { stepMs: options.stepMs, logger: logger.child({ component: 'demo-runner' }) })
        : createQueueDemoJobs(connection, options.demoQueue ?? VIDEO_QUEUE, logger.child({ component: 'demo-queue' }));
    const created = demo;
    app.addHook('onClose', () => created.close());
  }
  app.decorate('demoJobs', demo);

  const bridges =
    connection === undefined
      ? []
      : (options.bridgeQueues ?? []).map((queueName) =>
          startBullmqBridge({ reporter: app.reporter, queueName, connection, logger: logger.child({ component: 'bridge' }) }),
        );
  app.decorate('bridges', bridges);
  if (bridges.length > 0) {
    app.addHook('onClose', async () => {
      await Promise.all(bridges.map((bridge) => bridge.close()));
    });
  }
});
