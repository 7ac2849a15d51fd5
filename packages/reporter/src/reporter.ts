/**
 * What job code calls: the guide's ProgressService, camelCased, on top of any Engine. Every call is
 * validated in full (by protocol) before anything is written (ReporterInputError naming the field);
 * engine errors (TaskFinishedError, EngineUnavailableError…) propagate as they are. With `minIntervalMs`
 * progress updates are coalesced per task (progress-throttle.ts).
 */
import {
  encodeBroadcastFrame,
  encodeTaskEvent,
  projectChannel,
  userChannel,
  validateBroadcast,
  validateTaskEvent,
  type BroadcastMessage,
  type TaskEvent,
} from '@taskpulse/protocol';
import type { BatchPublishResult, DedupeKey, EngineStatus, PublishResult, PubSub, TaskStore } from '@taskpulse/engine';
import { pino } from 'pino';
import { capErrorText, describeError, isErrorLike } from './cause-chain';
import { ReporterInputError, asInputError, printableId } from './errors';
import { ProgressThrottle, type Coalesced, type DeferredErrorHandler } from './progress-throttle';

/** Where a reported event landed in its task's stream, and the frame subscribers received. */
export type Reported = Extract<PublishResult, { status: 'published' }>;

export interface ReporterOptions {
  /** The clock for event timestamps (default: now). */
  now?: () => Date;
  /**
   * Opt-in: coalesce each task's progress updates to at most one per this many ms (leading and trailing
   * edge; step changes and statuses go out at once, in order; see progress-throttle.ts). Off when unset.
   */
  minIntervalMs?: number;
  /** Where a held update's failed send is reported (default: logged at error level with the task id). */
  onDeferredError?: DeferredErrorHandler;
}

/** The engine roles a reporter writes through: publish (one or a batch) and cleanup of the task store, broadcasts, the prefix. */
export type ReporterEngine = Pick<TaskStore, 'publish' | 'publishBatch' | 'cleanupOldHistory'> & Pick<PubSub, 'broadcast'> & Pick<EngineStatus, 'prefix'>;

/** One event of a batch, as `publish` takes it. */
export interface ReportBatchItem {
  event: TaskEvent;
  dedupe?: DedupeKey;
}

/** One event's outcome in a batch: what the engine answered, or the error that refused it (input or engine). */
export type ReportBatchResult = BatchPublishResult | { status: 'error'; error: ReporterInputError };

/**
 * The guide's ProgressService. Each method resolves once the event is stored and fanned out; with a
 * coalescing window (`Held` = Coalesced) a progress update may instead resolve to `{status:'coalesced'}`
 * at once: it goes out later, merged into a newer one.
 */
export interface ProgressReporter<Held = never> {
  readonly engine: ReporterEngine;
  notifyTaskStart(taskId: string, userId?: string, projectId?: string): Promise<Reported>;
  updateProgress(taskId: string, percent: number, message?: string): Promise<Reported | Held>;
  /** Progress = completed/total as a percent rounded to 2 decimals (0 when total is 0). */
  updateProgressWithSteps(
    taskId: string,
    stepName: string,
    completedSteps: number,
    totalSteps: number,
    message?: string,
  ): Promise<Reported | Held>;
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
  publish(event: TaskEvent, options?: { dedupe?: DedupeKey; method?: string }): Promise<PublishResult | Held>;
  /**
   * Publishes many events of many tasks in one engine round trip (Redis: one pipeline). Each is validated
   * and answered on its own, in order: a bad or refused event does not stop the others. Never coalesced.
   */
  publishBatch(items: readonly ReportBatchItem[], options?: { method?: string }): Promise<ReportBatchResult[]>;
  /** Sends held (coalesced) updates now, for one task or all; resolves at once without a window. */
  flush(taskId?: string): Promise<void>;
  /** The same calls bound to one task, for code that reports about a single task. */
  forTask(taskId: string, owner?: { userId?: string; projectId?: string }): TaskProgress<Held>;
}

/** A reporter bound to one task (what `withProgress` hands a BullMQ processor). */
export interface TaskProgress<Held = never> {
  readonly taskId: string;
  step(stepName: string, completedSteps: number, totalSteps: number, message?: string): Promise<Reported | Held>;
  update(percent: number, message?: string): Promise<Reported | Held>;
  /** Broadcasts to the task owner's connections; ReporterInputError when the task has no known user. */
  broadcastToUser(msg: BroadcastMessage): Promise<number>;
  /** Broadcasts to the task project's connections; ReporterInputError when the task has no known project. */
  broadcastToProject(msg: BroadcastMessage): Promise<number>;
}

/** Creates a reporter that writes through `engine` (memory or Redis); with `minIntervalMs`, one that coalesces. */
export function createReporter(engine: ReporterEngine, options: ReporterOptions & { minIntervalMs: number }): ProgressReporter<Coalesced>;
export function createReporter(engine: ReporterEngine, options?: ReporterOptions & { minIntervalMs?: undefined }): ProgressReporter;
export function createReporter(engine: ReporterEngine, options?: ReporterOptions): ProgressReporter<Coalesced>;
export function createReporter(engine: ReporterEngine, options: ReporterOptions = {}): ProgressReporter<Coalesced> {
  const now = options.now ?? (() => new Date());
  const timestamp = () => now().toISOString();
  const throttle = options.minIntervalMs === undefined ? undefined : createThrottle(options);

  function send(event: TaskEvent, dedupe: DedupeKey | undefined, method = 'publish'): Promise<PublishResult> {
    const encoded = asInputError(method, event.taskId, () => encodeTaskEvent(event));
    return engine.publish(encoded, dedupe ? { dedupe } : {});
  }

  async function publish(event: TaskEvent, opts: { dedupe?: DedupeKey; method?: string } = {}): Promise<PublishResult | Coalesced> {
    const method = opts.method ?? 'publish';
    if (!throttle) return send(event, opts.dedupe, method);
    // validated now, so a bad update is refused to its caller and never held
    asInputError(method, event.taskId, () => validateTaskEvent(event));
    return event.kind === 'progress' ? throttle.progress(event, opts.dedupe) : throttle.status(event, opts.dedupe);
  }

  function createThrottle({ minIntervalMs, onDeferredError }: ReporterOptions): ProgressThrottle {
    if (typeof minIntervalMs !== 'number' || !Number.isFinite(minIntervalMs) || minIntervalMs < 0) {
      throw new RangeError(`createReporter: minIntervalMs must be a number of milliseconds >= 0, got ${String(minIntervalMs)}`);
    }
    const logger = onDeferredError ? undefined : pino({ name: 'reporter' });
    const report: DeferredErrorHandler =
      onDeferredError ?? ((error, taskId) => logger!.error({ err: error, taskId }, 'a coalesced progress update could not be published'));
    return new ProgressThrottle((event, dedupe) => send(event, dedupe), minIntervalMs, report);
  }

  async function report(method: string, event: TaskEvent): Promise<Reported | Coalesced> {
    const result = await publish(event, { method });
    // Only a dedupe key can make a publish a duplicate, and reporter methods never pass one.
    if (result.status === 'duplicate') throw new Error(`${method}: engine reported a duplicate without a dedupe key`);
    return result;
  }

  /** A status event is never held, so its answer is always where it landed. */
  const reportStatus = (method: string, event: TaskEvent) => report(method, event) as Promise<Reported>;

  async function publishBatch(items: readonly ReportBatchItem[], opts: { method?: string } = {}): Promise<ReportBatchResult[]> {
    const method = opts.method ?? 'publishBatch';
    const results: Array<ReportBatchResult | undefined> = [];
    const valid: Array<{ index: number; event: ReturnType<typeof encodeTaskEvent>; dedupe?: DedupeKey }> = [];
    items.forEach(({ event, dedupe }, index) => {
      try {
        valid.push({ index, event: asInputError(method, event?.taskId, () => encodeTaskEvent(event)), ...(dedupe ? { dedupe } : {}) });
        results.push(undefined);
      } catch (error) {
        if (!(error instanceof ReporterInputError)) throw error;
        results.push({ status: 'error', error });
      }
    });
    throttle?.releaseBefore(new Set(valid.map(({ event }) => event.taskId)));
    const published = valid.length === 0 ? [] : await engine.publishBatch(valid.map(({ event, dedupe }) => ({ event, ...(dedupe ? { dedupe } : {}) })));
    published.forEach((result, k) => {
      results[valid[k]!.index] = result;
    });
    return results as ReportBatchResult[];
  }

  const reporter: ProgressReporter<Coalesced> = {
    engine,
    publish,
    publishBatch,
    flush: (taskId) => throttle?.flush(taskId) ?? Promise.resolve(),
    notifyTaskStart: (taskId, userId, projectId) =>
      reportStatus('notifyTaskStart', { kind: 'start', taskId, userId, projectId, timestamp: timestamp() }),
    updateProgress: (taskId, percent, message) =>
      report('updateProgress', { kind: 'progress', taskId, progress: percent, message, timestamp: timestamp() }),
    // protocol checks the step counts before the derived percent, so a bad count is named as itself
    updateProgressWithSteps: (taskId, stepName, completedSteps, totalSteps, message) =>
      report('updateProgressWithSteps', {
        kind: 'progress',
        taskId,
        progress: stepsPercent(completedSteps, totalSteps),
        currentStep: stepName,
        completedSteps,
        totalSteps,
        message,
        timestamp: timestamp(),
      }),
    notifyTaskComplete: (taskId, result) =>
      reportStatus('notifyTaskComplete', { kind: 'complete', taskId, result, timestamp: timestamp() }),
    async notifyTaskFailed(taskId, error) {
      const method = 'notifyTaskFailed';
      if (!isErrorLike(error) && typeof error !== 'string') {
        throw new ReporterInputError(method, 'error', `error must be an Error or a string, got ${kindOf(error)}`, printableId(taskId));
      }
      // A failure must never be lost to its own length: long chains are cut, not refused.
      const text = isErrorLike(error) ? describeError(error) : capErrorText(error);
      return reportStatus(method, { kind: 'fail', taskId, error: text, timestamp: timestamp() });
    },
    notifyTaskCancelled: (taskId, reason) =>
      reportStatus('notifyTaskCancelled', { kind: 'cancel', taskId, reason, timestamp: timestamp() }),
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

function bindTask<Held>(reporter: ProgressReporter<Held>, taskId: string, owner: { userId?: string; projectId?: string }): TaskProgress<Held> {
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

function kindOf(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return value === null ? 'null' : typeof value;
}
