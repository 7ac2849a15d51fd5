/**
 * The guide's `video_processing` handler: start, four steps reported with updateProgressWithSteps,
 * then complete with the video's URL. Short sleeps stand in for the real work; `fail_at_step` makes one
 * step fail so the demo can show notifyTaskFailed with a cause chain.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { taskIdOf, type ProgressReporter } from '@taskpulse/reporter';

/**
 * What a demo job carries; every field is optional. The API declares the same shape as its DemoJobInput
 * (and validates it at the edge); apps/start.ts, which hands this worker's runner to the API, is where
 * the compiler checks the two agree. Apps never import each other.
 */
export interface VideoJobData {
  /** Overrides the job id as the task id (the reporter's rule, see taskIdOf). */
  task_id?: string;
  user_id?: string;
  project_id?: string;
  /** 1-based step number (1 download … 4 upload) whose work fails; absent for a job that succeeds. */
  fail_at_step?: number;
  /** Milliseconds each step's stand-in work takes; overrides the worker's STEP_DELAY_MS. */
  step_ms?: number;
}

/** The longest step a job may ask for, so a bad job cannot park a worker slot for hours. */
export const MAX_STEP_MS = 60_000;

/** The parts of a BullMQ job (or an in-process one) the processor reads. */
export interface VideoJobLike {
  id?: string | undefined;
  data: VideoJobData;
}

/** The guide's four steps, in order, with the messages it shows. */
export const VIDEO_STEPS = [
  { name: '下载视频', message: '正在下载视频...', cause: '连接视频源超时' },
  { name: '视频转码', message: '正在转码视频...', cause: 'ffmpeg 退出，代码 1' },
  { name: '生成缩略图', message: '正在生成缩略图...', cause: '无法解码关键帧' },
  { name: '上传视频', message: '正在上传视频...', cause: '对象存储拒绝写入' },
] as const;

export interface ProcessVideoOptions {
  /** Milliseconds each step's stand-in work takes (default 400). */
  stepMs?: number;
  /** Aborts the sleeps; an aborted job rethrows the AbortError and reports nothing more. */
  signal?: AbortSignal;
  /** Called once the start has been recorded (the in-process runner answers its caller then). */
  onStarted?: () => void;
}

/** The result a finished job reports. */
export interface VideoResult {
  video_url: string;
}

/** Job data the processor cannot run (it came off a queue anyone may write to); nothing is reported. */
export class VideoJobDataError extends Error {
  override readonly name = 'VideoJobDataError';
  constructor(
    readonly field: keyof VideoJobData,
    readonly got: unknown,
    expected: string,
  ) {
    super(`video job data: ${field} must be ${expected}, got ${JSON.stringify(got) ?? String(got)}`);
  }
}

/** A step's simulated failure, wrapped the way the guide wraps errors (`视频处理失败: %w`). */
export class VideoProcessingError extends Error {
  override readonly name = 'VideoProcessingError';
  constructor(
    readonly taskId: string,
    readonly step: string,
    options: { cause: unknown },
  ) {
    super(`视频处理失败: ${step}失败`, options);
  }
}

/** Runs one video job through the reporter; resolves with the result, or rejects after reporting the failure. */
export async function processVideo(
  job: VideoJobLike,
  reporter: ProgressReporter,
  options: ProcessVideoOptions = {},
): Promise<VideoResult> {
  const stepMs = checkedStepMs(job.data, options.stepMs ?? 400);
  const failAt = checkedFailAt(job.data);
  const taskId = taskIdOf(job);
  const { signal } = options;
  await reporter.notifyTaskStart(taskId, job.data.user_id, job.data.project_id);
  options.onStarted?.();
  for (const [index, step] of VIDEO_STEPS.entries()) {
    signal?.throwIfAborted();
    await reporter.updateProgressWithSteps(taskId, step.name, index, VIDEO_STEPS.length, step.message);
    await sleep(stepMs, undefined, signal ? { signal } : undefined);
    if (failAt === index + 1) {
      const error = new VideoProcessingError(taskId, step.name, { cause: new Error(step.cause) });
      await reporter.notifyTaskFailed(taskId, error);
      throw error;
    }
  }
  const result: VideoResult = { video_url: `https://example.com/videos/${taskId}.mp4` };
  await reporter.notifyTaskComplete(taskId, result);
  return result;
}

function checkedStepMs(data: VideoJobData, fallback: number): number {
  const stepMs = data.step_ms;
  if (stepMs === undefined) return fallback;
  if (!Number.isInteger(stepMs) || stepMs < 0 || stepMs > MAX_STEP_MS) {
    throw new VideoJobDataError('step_ms', stepMs, `a whole number of ms from 0 to ${MAX_STEP_MS}`);
  }
  return stepMs;
}

function checkedFailAt(data: VideoJobData): number | undefined {
  const failAt = data.fail_at_step;
  if (failAt === undefined || (Number.isInteger(failAt) && failAt >= 1 && failAt <= VIDEO_STEPS.length)) return failAt;
  throw new VideoJobDataError('fail_at_step', failAt, `a step number from 1 to ${VIDEO_STEPS.length}`);
}
