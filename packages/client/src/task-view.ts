/**
 * What a page shows of one task, kept up to date from its frames: latest progress, step, message, status,
 * result or error, the stream position, the elapsed time and an ETA. The ETA comes from the progress rate
 * between frames (server timestamps, so a burst of replayed frames after a reconnect does not distort it),
 * smoothed exponentially; it is absent until two frames with rising progress were seen, and once the task
 * has finished.
 */
import { isTerminalStatus, type ProgressFrame, type StatusFrame, type TaskStatus } from '@taskpulse/protocol';

/** Weight of the newest rate sample in the smoothed rate: high enough to follow a change of pace within a few frames. */
const RATE_SMOOTHING = 0.3;

/** The latest known state of a task, with elapsed time and ETA computed on demand. */
export class TaskView {
  status: TaskStatus | undefined;
  /** 0-100, from the newest progress frame (100 on completion). */
  progress: number | undefined;
  step = '';
  message = '';
  totalSteps = 0;
  completedSteps = 0;
  /** The result of a completed task. */
  result: unknown;
  /** The error text of a failed task, or the reason of a cancelled one. */
  error: string | undefined;
  /** Position of the newest frame applied: offset and epoch (see the README's wire section). */
  offset: number | undefined;
  epoch: string | undefined;
  /** Server time (ms since 1970) the task started running, when a frame told it. */
  startedAt: number | undefined;
  /** Server time the task finished, when it has. */
  finishedAt: number | undefined;
  /** Server time of the newest frame. */
  updatedAt: number | undefined;

  /** Smoothed progress rate in percent per millisecond, once it can be estimated. */
  private rate: number | undefined;
  private lastSample: { progress: number; at: number } | undefined;
  /** Local clock when the newest rate sample arrived, to count the ETA down between frames. */
  private sampleSeenAt = 0;

  constructor(readonly taskId: string) {}

  /** True once the task completed, failed or was cancelled. */
  get finished(): boolean {
    return this.status !== undefined && isTerminalStatus(this.status);
  }

  /**
   * Milliseconds since the task started: up to its finish, else up to `now` (local clock, ms since 1970).
   * Undefined while the start is unknown (a late subscriber gets only the newest frames; set `startedAt`
   * from the REST history to fill it in).
   */
  elapsedMs(now: number = Date.now()): number | undefined {
    if (this.startedAt === undefined) return undefined;
    return Math.max(0, (this.finishedAt ?? now) - this.startedAt);
  }

  /** Estimated milliseconds until the task reaches 100 %, counted down since the last frame; undefined when unknown. */
  etaMs(now: number = Date.now()): number | undefined {
    if (this.finished || this.rate === undefined || this.rate <= 0 || this.progress === undefined) return undefined;
    const remaining = (100 - this.progress) / this.rate;
    return Math.max(0, remaining - Math.max(0, now - this.sampleSeenAt));
  }

  /** Applies a task frame (the caller has already dropped duplicates). */
  apply(frame: ProgressFrame | StatusFrame, seenAt: number = Date.now()): void {
    if (frame.epoch !== this.epoch && this.epoch !== undefined) this.forgetRate();
    this.offset = frame.offset;
    this.epoch = frame.epoch;
    const at = Date.parse(frame.payload.timestamp);
    if (Number.isFinite(at)) this.updatedAt = at;
    if (frame.type === 'progress') this.applyProgress(frame, at, seenAt);
    else this.applyStatus(frame, at);
  }

  /** A plain copy for logs, JSON output and tests: every field plus elapsed and ETA at `now`. */
  snapshot(now: number = Date.now()): TaskViewSnapshot {
    return {
      task_id: this.taskId,
      status: this.status,
      progress: this.progress,
      step: this.step,
      message: this.message,
      total_steps: this.totalSteps,
      completed_steps: this.completedSteps,
      result: this.result,
      error: this.error,
      offset: this.offset,
      epoch: this.epoch,
      elapsed_ms: this.elapsedMs(now),
      eta_ms: this.etaMs(now),
    };
  }

  private applyProgress(frame: ProgressFrame, at: number, seenAt: number): void {
    const p = frame.payload;
    this.progress = p.progress;
    this.step = p.current_step;
    this.message = p.message;
    this.totalSteps = p.total_steps;
    this.completedSteps = p.completed_steps;
    if (this.status === undefined || !isTerminalStatus(this.status)) this.status = p.status;
    if (this.startedAt === undefined && Number.isFinite(at) && p.progress === 0) this.startedAt = at;
    if (Number.isFinite(at)) this.sampleRate(p.progress, at, seenAt);
  }

  private applyStatus(frame: StatusFrame, at: number): void {
    const p = frame.payload;
    this.status = p.status;
    if (p.status === 'running' || p.status === 'pending') {
      // A new start: the task runs again from the beginning.
      if (Number.isFinite(at)) this.startedAt = at;
      this.finishedAt = undefined;
      this.result = undefined;
      this.error = undefined;
      this.forgetRate();
      return;
    }
    if (Number.isFinite(at)) this.finishedAt = at;
    if (p.status === 'completed') {
      this.progress = 100;
      this.completedSteps = this.totalSteps;
      this.result = p.result;
    } else this.error = p.error;
  }

  private sampleRate(progress: number, at: number, seenAt: number): void {
    const last = this.lastSample;
    this.lastSample = { progress, at };
    this.sampleSeenAt = seenAt;
    if (!last || at <= last.at) return;
    if (progress < last.progress) return this.forgetRate();
    if (progress === last.progress) return;
    const sample = (progress - last.progress) / (at - last.at);
    this.rate = this.rate === undefined ? sample : RATE_SMOOTHING * sample + (1 - RATE_SMOOTHING) * this.rate;
  }

  private forgetRate(): void {
    this.rate = undefined;
    this.lastSample = undefined;
  }
}

/** TaskView's fields as plain data (snake_case like the wire), with elapsed_ms and eta_ms at one instant. */
export interface TaskViewSnapshot {
  task_id: string;
  status: TaskStatus | undefined;
  progress: number | undefined;
  step: string;
  message: string;
  total_steps: number;
  completed_steps: number;
  result: unknown;
  error: string | undefined;
  offset: number | undefined;
  epoch: string | undefined;
  elapsed_ms: number | undefined;
  eta_ms: number | undefined;
}
