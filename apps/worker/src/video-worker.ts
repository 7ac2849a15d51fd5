/**
 * The demo queue's BullMQ Worker: each job runs processVideo with the reporter, the job id (or
 * `data.task_id`) being the task id. Used by the worker's main.ts and by `npm start` with Redis.
 */
import { Worker, type ConnectionOptions } from 'bullmq';
import type { ProgressReporter } from '@taskpulse/reporter';
import type { Logger } from 'pino';
import { processVideo, type VideoJobData, type VideoResult } from './video-processor';

/** The guide's queue name. */
export const VIDEO_QUEUE = 'video_processing';

export interface VideoWorkerOptions {
  connection: ConnectionOptions;
  /** BullMQ key prefix (default BullMQ's `bull`; `{bull}` on a Redis Cluster). */
  prefix?: string | undefined;
  reporter: ProgressReporter;
  logger: Logger;
  queueName?: string;
  concurrency?: number;
  /** Milliseconds per step (default 400). */
  stepMs?: number;
}

/** Starts a Worker on the demo queue; close it with `worker.close()`. */
export function startVideoWorker(options: VideoWorkerOptions): Worker<VideoJobData, VideoResult> {
  const queueName = options.queueName ?? VIDEO_QUEUE;
  const { logger, reporter } = options;
  const worker = new Worker<VideoJobData, VideoResult>(
    queueName,
    (job, _token, signal) => processVideo({ id: job.id, data: job.data }, reporter, { stepMs: options.stepMs, signal }),
    { connection: options.connection, concurrency: options.concurrency ?? 4, ...(options.prefix === undefined ? {} : { prefix: options.prefix }) },
  );
  // The processor has already reported the failure to the task; this is the operator's record of it.
  worker.on('failed', (job, error) => logger.warn({ queue: queueName, jobId: job?.id, err: error }, 'video job failed'));
  worker.on('error', (error) => logger.error({ queue: queueName, err: error }, 'video worker error'));
  return worker;
}
