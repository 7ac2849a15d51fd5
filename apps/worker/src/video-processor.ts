/**
 * The guide's `video_processing` handler: start, four steps reported with updateProgressWithSteps,
 * then complete with the video's URL. Short sleeps stand in for the real work; `fail_at_step` makes one
 * step fail so the demo can show notifyTaskFailed with a cause chain.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { taskIdOf, type ProgressReporter } from '@taskpulse/reporter';

/** What a demo job carries; every field is optional. */
export interface VideoJobData {
  /** Overrides the job id as the task id (the reporter's rule, see taskIdOf). */
  task_id?: string;
  user_id?: string;
  project_id?: string;
  /** 1-based step number (1 download … 4 upload) whose work fails; absent for a job that succeeds. */
  fail_at_step?: number;
}

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
  const taskId = taskIdOf(job);
  const stepMs = options.stepMs ?? 400;
  const { signal } = options;
  await reporter.notifyTaskStart(taskId, job.data.user_id, job.data.project_id);
  options.onStarted?.();
  for (const [index, step] of VIDEO_STEPS.entries()) {
    signal?.throwIfAborted();
    await reporter.updateProgressWithSteps(taskId, step.name, index, VIDEO_STEPS.length, step.message);
    await sleep(stepMs, undefined, signal ? { signal } : undefined);
    if (job.data.fail_at_step === index + 1) {
      const error = new VideoProcessingError(taskId, step.name, { cause: new Error(step.cause) });
      await reporter.notifyTaskFailed(taskId, error);
      throw error;
    }
  }
  const result: VideoResult = { video_url: `https://example.com/videos/${taskId}.mp4` };
  await reporter.notifyTaskComplete(taskId, result);
  return result;
}
