/**
 * Where `POST /api/v1/demo/jobs` puts a job: on the BullMQ demo queue when there is Redis (a worker
 * process runs it), else on the in-process runner. Both answer with the task id the job will report under.
 */
import { Queue, type ConnectionOptions } from 'bullmq';
import type { Logger } from 'pino';
import { newVideoTaskId, VIDEO_QUEUE, type VideoJobData } from '@taskpulse/worker';

/** Enqueues demo jobs; `close` releases what it holds. */
export interface DemoJobs {
  readonly mode: 'queue' | 'in-process';
  enqueue(data: VideoJobData): Promise<{ taskId: string }>;
  close(): Promise<void>;
}

/** Demo jobs on a BullMQ queue; the job id is the task id. */
export function createQueueDemoJobs(connection: ConnectionOptions, queueName: string, logger: Logger): DemoJobs {
  const queue = new Queue<VideoJobData>(queueName, { connection });
  // Redis trouble surfaces to the caller of enqueue; the connection's own errors are the operator's to see.
  queue.on('error', (error) => logger.warn({ err: error, queue: queueName }, 'demo queue connection error'));
  return {
    mode: 'queue',
    async enqueue(data) {
      const taskId = data.task_id ?? newVideoTaskId();
      // Finished jobs are kept only briefly: the task's history lives in the engine, not in BullMQ.
      await queue.add(VIDEO_QUEUE, data, { jobId: taskId, removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } });
      return { taskId };
    },
    close: () => queue.close(),
  };
}
