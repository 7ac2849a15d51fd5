/**
 * Demo jobs without Redis or BullMQ: the memory mode of `npm start` runs the same processor in this
 * process. A job's failure is reported by the processor itself; here it is only logged.
 */
import { randomUUID } from 'node:crypto';
import type { ProgressReporter } from '@taskpulse/reporter';
import { pino, type Logger } from 'pino';
import { processVideo, type VideoJobData } from './video-processor';

export interface InProcessRunnerOptions {
  /** Milliseconds per step (default 400). */
  stepMs?: number;
  logger?: Logger;
}

/**
 * Runs demo jobs in this process; `enqueue` answers once the job's start is recorded. Its shape is what
 * the API's build() takes as `demoJobs`, so `npm start` hands it over without the API knowing this app.
 */
export interface InProcessRunner {
  readonly mode: 'in-process';
  enqueue(data: VideoJobData): Promise<{ task_id: string }>;
  /** Jobs still running. */
  running(): number;
  /** Interrupts running jobs (nothing more is reported for them) and waits until they stop. */
  close(): Promise<void>;
}

/** A new demo task id, valid as a BullMQ job id too (no `:`). */
export function newVideoTaskId(): string {
  return `video-${randomUUID()}`;
}

/** Creates a runner that processes demo jobs with `reporter`. */
export function createInProcessRunner(reporter: ProgressReporter, options: InProcessRunnerOptions = {}): InProcessRunner {
  const logger = options.logger ?? pino({ name: 'in-process-runner' });
  const jobs = new Set<Promise<unknown>>();
  const abort = new AbortController();
  return {
    mode: 'in-process',
    enqueue(data) {
      if (abort.signal.aborted) return Promise.reject(new Error('the in-process runner is closed'));
      const taskId = data.task_id ?? newVideoTaskId();
      return new Promise((resolve, reject) => {
        let started = false;
        const job = processVideo({ id: taskId, data }, reporter, {
          stepMs: options.stepMs,
          signal: abort.signal,
          onStarted: () => {
            started = true;
            resolve({ task_id: taskId });
          },
        })
          .catch((error: unknown) => {
            // Before the start is recorded the caller gets the error (a bad id, an engine that is down).
            if (!started) return reject(error);
            if (abort.signal.aborted) logger.info({ taskId }, 'demo job interrupted by shutdown');
            else logger.warn({ taskId, err: error }, 'demo job failed');
          })
          .finally(() => jobs.delete(job));
        jobs.add(job);
      });
    },
    running: () => jobs.size,
    async close() {
      abort.abort();
      await Promise.allSettled([...jobs]);
    },
  };
}
