/**
 * Demo jobs on a BullMQ queue: what the cluster API (main.ts) and `npm start` with Redis hand to build().
 * A worker process consuming the same queue runs them. Needs only bullmq's Queue and the queue name.
 */
import { Queue, type ConnectionOptions } from 'bullmq';
import type { Logger } from 'pino';
import type { DemoJobInput, DemoJobs } from './demo-jobs';

/** The guide's queue name; the worker's QUEUE_NAME has the same default. */
export const DEFAULT_DEMO_QUEUE = 'video_processing';

export interface QueueDemoJobsOptions {
  connection: ConnectionOptions;
  /** BullMQ key prefix (default BullMQ's `bull`; `{bull}` on a Redis Cluster). */
  prefix?: string | undefined;
  /** Default video_processing. */
  queueName?: string;
  logger: Logger;
}

/** DemoJobs that add to a BullMQ queue (the job id is the task id); `close` releases the queue's connection. */
export function createQueueDemoJobs(options: QueueDemoJobsOptions): DemoJobs & { close(): Promise<void> } {
  const queueName = options.queueName ?? DEFAULT_DEMO_QUEUE;
  const queue = new Queue<DemoJobInput>(queueName, {
    connection: options.connection,
    ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
  });
  // Redis trouble surfaces to the caller of enqueue; the connection's own errors are the operator's to see.
  queue.on('error', (error) => options.logger.warn({ err: error, queue: queueName }, 'demo queue connection error'));
  return {
    mode: 'queue',
    async enqueue(input) {
      // Finished jobs are kept only briefly: the task's history lives in the engine, not in BullMQ.
      await queue.add(queueName, input, { jobId: input.task_id, removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } });
      return { task_id: input.task_id };
    },
    close: () => queue.close(),
  };
}
