/**
 * What job code calls: the guide's ProgressService, camelCased, on top of any Engine. Every call is
 * validated in full before anything is written (ReporterInputError naming the field); engine errors
 * (TaskFinishedError, EngineUnavailableError…) propagate as they are.
 */
import {
  LIMITS,
  encodeBroadcastFrame,
  encodeTaskEvent,
  projectChannel,
  userChannel,
  validateBroadcast,
  type BroadcastMessage,
  type TaskEvent,
} from '@taskpulse/protocol';
import type { DedupeKey, EngineStatus, PublishResult, PubSub, TaskStore } from '@taskpulse/engine';
import { describeError, isErrorLike } from './cause-chain';
import { ReporterInputError, asInputError, printableId } from './errors';

/** Where a reported event landed in its task's stream, and the frame subscribers received. */
export type Reported = Extract<PublishResult, { status: 'published' }>;

export interface ReporterOptions {
  /** The clock for event timestamps (default: now). */
  now?: () => Date;
}

/** The engine roles a reporter writes through: publish and cleanup of the task store, broadcasts, the prefix. */
export type ReporterEngine = Pick<TaskStore, 'publish' | 'cleanupOldHistory'> & Pick<PubSub, 'broadcast'> & Pick<EngineStatus, 'prefix'>;

/** The guide's ProgressService. Each method resolves once the event is stored and fanned out. */
export interface ProgressReporter {
  readonly engine: ReporterEngine;
  notifyTaskStart(taskId: string, userId?: string, projectId?: string): Promise<Reported>;
  updateProgress(taskId: string, percent: number, message?: string): Promise<Reported>;
  /** Progress = completed/total as a percent rounded to 2 decimals (0 when total is 0). */
  updateProgressWithSteps(
    taskId: string,
    stepName: string,
    completedSteps: number,
    totalSteps: number,
    message?: string,
  ): Promise<Reported>;
  notifyTaskComplete(taskId: string, result?: unknown): Promise<Reported>;
  /** Stores the error's message with its whole cause chain (see describeError). */
  notifyTaskFailed(taskId: string, error: Error | string): Promise<Reported>;
  notifyTaskCancelled(taskId: string, reason?: string): Promise<Reported>;
  /** Sends a notification to every connection of the user; resolves to the receiver count the engine reports. */
  broadcastToUser(userId: string, taskId: string, msg: BroadcastMessage): Promise<number>;
  /** Sends a notification to every connection of the project; resolves to the receiver count the engine reports. */
  broadcastToProject(projectId: string, taskId: string, msg: BroadcastMessage): Promise<number>;
  /** Drops expired tasks (the engine's cleanupOldHistory); resolves to how many were dropped. */
  cleanupOldHistory(): Promise<number>;
  /**
   * Publishes any task event; with `dedupe`, a replayed event from an ordered source resolves to
   * `{ status: 'duplicate' }` instead of being stored twice. The BullMQ bridge and HTTP endpoints use this.
   */
  publish(event: TaskEvent, options?: { dedupe?: DedupeKey; method?: string }): Promise<PublishResult>;
  /** The same calls bound to one task, for code that reports about a single task. */
  forTask(taskId: string, owner?: { userId?: string; projectId?: string }): TaskProgress;
}

/** A reporter bound to one task (what `withProgress` hands a BullMQ processor). */
export interface TaskProgress {
  readonly taskId: string;
  step(stepName: string, completedSteps: number, totalSteps: number, message?: string): Promise<Reported>;
  update(percent: number, message?: string): Promise<Reported>;
  /** Broadcasts to the task owner's connections; ReporterInputError when the task has no known user. */
  broadcastToUser(msg: BroadcastMessage): Promise<number>;
  /** Broadcasts to the task project's connections; ReporterInputError when the task has no known project. */
  broadcastToProject(msg: BroadcastMessage): Promise<number>;
}

/** Creates a reporter that writes through `engine` (memory or Redis). */
export function createReporter(engine: ReporterEngine, options: ReporterOptions = {}): ProgressReporter {
  const now = options.now ?? (() => new Date());
  const timestamp = () => now().toISOString();

  async function publish(event: TaskEvent, opts: { dedupe?: DedupeKey; method?: string } = {}): Promise<PublishResult> {
    const encoded = asInputError(opts.method ?? 'publish', event.taskId, () => encodeTaskEvent(event));
    return engine.publish(encoded, opts.dedupe ? { dedupe: opts.dedupe } : {});
  }

  async function report(method: string, event: TaskEvent): Promise<Reported> {
    const result = await publish(event, { method });
    // Only a dedupe key can make a publish a duplicate, and reporter methods never pass one.
    if (result.status !== 'published') throw new Error(`${method}: engine reported a duplicate without a dedupe key`);
    return result;
  }

  const reporter: ProgressReporter = {
    engine,
    publish,
    notifyTaskStart: (taskId, userId, projectId) =>
      report('notifyTaskStart', { kind: 'start', taskId, userId, projectId, timestamp: timestamp() }),
    updateProgress: (taskId, percent, message) =>
      report('updateProgress', { kind: 'progress', taskId, progress: percent, message, timestamp: timestamp() }),
    async updateProgressWithSteps(taskId, stepName, completedSteps, totalSteps, message) {
      const method = 'updateProgressWithSteps';
      checkSteps(method, taskId, completedSteps, totalSteps);
      return report(method, {
        kind: 'progress',
        taskId,
        progress: stepsPercent(completedSteps, totalSteps),
        currentStep: stepName,
        completedSteps,
        totalSteps,
        message,
        timestamp: timestamp(),
      });
    },
    notifyTaskComplete: (taskId, result) =>
      report('notifyTaskComplete', { kind: 'complete', taskId, result, timestamp: timestamp() }),
    async notifyTaskFailed(taskId, error) {
      const method = 'notifyTaskFailed';
      if (!isErrorLike(error) && typeof error !== 'string') {
        throw new ReporterInputError(method, 'error', `error must be an Error or a string, got ${kindOf(error)}`, printableId(taskId));
      }
      // A failure must never be lost to its own length: long chains are cut, not refused.
      const text = isErrorLike(error) ? describeError(error) : capped(error);
      return report(method, { kind: 'fail', taskId, error: text, timestamp: timestamp() });
    },
    notifyTaskCancelled: (taskId, reason) =>
      report('notifyTaskCancelled', { kind: 'cancel', taskId, reason, timestamp: timestamp() }),
    broadcastToUser: (userId, taskId, msg) => broadcast('user', userId, taskId, msg),
    broadcastToProject: (projectId, taskId, msg) => broadcast('project', projectId, taskId, msg),
    cleanupOldHistory: () => engine.cleanupOldHistory(),
    forTask: (taskId, owner = {}) => bindTask(reporter, taskId, owner),
  };

  async function broadcast(scope: 'user' | 'project', scopeId: string, taskId: string, msg: BroadcastMessage): Promise<number> {
    const method = scope === 'user' ? 'broadcastToUser' : 'broadcastToProject';
    const frame = asInputError(method, taskId, () => {
      validateBroadcast(scope === 'user' ? 'user_id' : 'project_id', scopeId, taskId, msg);
      return encodeBroadcastFrame(scope, taskId, { ...msg, timestamp: msg.timestamp ?? timestamp() });
    });
    const channel = scope === 'user' ? userChannel(engine.prefix, scopeId) : projectChannel(engine.prefix, scopeId);
    return engine.broadcast(channel, frame);
  }

  return reporter;
}

/** completed/total as a percent with at most 2 decimals; 0 when there are no steps. */
export function stepsPercent(completedSteps: number, totalSteps: number): number {
  if (totalSteps === 0) return 0;
  return Math.round((completedSteps / totalSteps) * 10_000) / 100;
}

function bindTask(reporter: ProgressReporter, taskId: string, owner: { userId?: string; projectId?: string }): TaskProgress {
  return {
    taskId,
    step: (stepName, completed, total, message) => reporter.updateProgressWithSteps(taskId, stepName, completed, total, message),
    update: (percent, message) => reporter.updateProgress(taskId, percent, message),
    async broadcastToUser(msg) {
      if (owner.userId === undefined) {
        throw new ReporterInputError('broadcastToUser', 'user_id', 'user_id is not known for this task', printableId(taskId));
      }
      return reporter.broadcastToUser(owner.userId, taskId, msg);
    },
    async broadcastToProject(msg) {
      if (owner.projectId === undefined) {
        throw new ReporterInputError('broadcastToProject', 'project_id', 'project_id is not known for this task', printableId(taskId));
      }
      return reporter.broadcastToProject(owner.projectId, taskId, msg);
    },
  };
}

/** Checked here, before the percent is derived, so the error names the step field rather than `progress`. */
function checkSteps(method: string, taskId: string, completed: unknown, total: unknown): void {
  for (const [field, value] of [['completed_steps', completed], ['total_steps', total]] as const) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > LIMITS.maxSteps) {
      const problem = `${field} must be a whole number from 0 to ${LIMITS.maxSteps}, got ${kindOf(value)}`;
      throw new ReporterInputError(method, field, problem, printableId(taskId));
    }
  }
  if ((completed as number) > (total as number)) {
    const problem = `completed_steps must not exceed total_steps (${String(completed)} > ${String(total)})`;
    throw new ReporterInputError(method, 'completed_steps', problem, printableId(taskId));
  }
}

function capped(text: string): string {
  return text.length > LIMITS.errorChars ? `${text.slice(0, LIMITS.errorChars - 1)}…` : text;
}

function kindOf(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return value === null ? 'null' : typeof value;
}
