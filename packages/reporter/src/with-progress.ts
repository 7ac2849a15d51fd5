/**
 * One line to make a BullMQ processor report: `new Worker('video', withProgress(reporter, async (job,
 * progress) => { await progress.step('下载视频', 0, 4, '正在下载视频...'); … return result }))`.
 * Start before, complete with the return value, failed with the thrown error (then rethrown).
 */
import type { Job } from 'bullmq';
import { TaskFinishedError } from '@taskpulse/engine';
import { pino, type Logger } from 'pino';
import { describeError } from './cause-chain';
import type { ProgressReporter, TaskProgress } from './reporter';

/** The parts of a BullMQ job that name its task. */
export interface JobLike {
  id?: string | undefined;
  data?: unknown;
}

/** The task a job reports about: `job.data.task_id` when set, else the BullMQ job id. */
export function taskIdOf(job: JobLike): string {
  const fromData = field(job.data, 'task_id');
  if (fromData !== undefined) return fromData;
  if (job.id === undefined) throw new TypeError('taskIdOf: the job has neither data.task_id nor an id');
  return job.id;
}

/** The owner recorded with the task's start: `job.data.user_id` and `job.data.project_id`, when set. */
export function ownerOf(job: JobLike): { userId?: string; projectId?: string } {
  const userId = field(job.data, 'user_id');
  const projectId = field(job.data, 'project_id');
  return { ...(userId === undefined ? {} : { userId }), ...(projectId === undefined ? {} : { projectId }) };
}

export type ProgressProcessor<D, R, N extends string, Held = never> = (
  job: Job<D, R, N>,
  progress: TaskProgress<Held>,
  token?: string,
  signal?: AbortSignal,
) => Promise<R>;

export interface WithProgressOptions {
  /** Where a failure to record a failure is logged (default: a pino logger named `with-progress`). */
  logger?: Logger;
}

/**
 * Wraps a processor so that it reports start, completion and failure. Every failed attempt is reported
 * (a retry's start reopens the task). A TaskFinishedError for this task (it was cancelled or finished
 * elsewhere) ends the job without overwriting that status. A result the reporter refuses (too large, not
 * JSON) fails the job, recorded with that reason. If the start cannot be recorded the job fails before the
 * processor runs, so BullMQ retries it rather than running it unobserved.
 */
export function withProgress<D = unknown, R = unknown, N extends string = string, Held = never>(
  reporter: ProgressReporter<Held>,
  processor: ProgressProcessor<D, R, N, Held>,
  options: WithProgressOptions = {},
): (job: Job<D, R, N>, token?: string, signal?: AbortSignal) => Promise<R> {
  const logger = options.logger ?? pino({ name: 'with-progress' });
  return async (job, token, signal) => {
    const taskId = taskIdOf(job);
    const owner = ownerOf(job);
    await reporter.notifyTaskStart(taskId, owner.userId, owner.projectId);
    try {
      const result = await processor(job, reporter.forTask(taskId, owner), token, signal);
      await reporter.notifyTaskComplete(taskId, result);
      return result;
    } catch (error) {
      if (!(error instanceof TaskFinishedError && error.taskId === taskId)) {
        await reporter.notifyTaskFailed(taskId, describeError(error)).catch((reportError: unknown) => {
          // The job's own error is what BullMQ must see; losing the report is logged, not thrown.
          logger.error({ err: reportError, taskId, jobId: job.id, queue: job.queueName }, 'could not record task failure');
        });
      }
      throw error;
    }
  };
}

function field(data: unknown, name: string): string | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const value = (data as Record<string, unknown>)[name];
  if (typeof value === 'string' && value.length > 0) return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}
