/**
 * Turns plain BullMQ jobs into task events with no code in the worker: `active` → start,
 * `job.updateProgress(n | {…})` → progress, `completed` → complete with the return value, `failed` (the
 * final failure; retries emit no `failed`) → failed with the reason. Read from the queue's events stream
 * with QueueEvents.
 *
 * Exactly once: each event is published with `dedupe: { source: 'bullmq:<queue>', id: <stream id> }`, so
 * when several bridges run (one per API replica) or events are replayed, each lands in history once. For
 * that, one job's events are published strictly in stream order (a per-job chain): an older id published
 * after a newer one would be dropped as a duplicate.
 *
 * Events while no bridge ran: a bridge starts reading `replayWindowMs` (default 60 s) back in the stream,
 * or at `lastEventId` when given; replaying is harmless (dedupe) and closes the gap of a restart. With two
 * or more replicas a single restart loses nothing; an outage longer than the window does (set
 * `lastEventId: '0'` to replay the whole stream, which BullMQ trims to ~10 000 events).
 *
 * Task id: `job.data.task_id`, else the job id; the job is read when it is added (and cached). A job that
 * was already removed when the bridge reads it (removeOnComplete, seen only in a replay) is reported under
 * its job id, with a warning: add jobs with `{ jobId: taskId }` to make that fallback exact.
 *
 * Use either this bridge or `withProgress` for a queue, not both: each would report the same job.
 */
import { Job, Queue, QueueEvents, type ConnectionOptions } from 'bullmq';
import { TaskFinishedError } from '@taskpulse/engine';
import { LIMITS, type TaskEvent } from '@taskpulse/protocol';
import { pino, type Logger } from 'pino';
import { progressEventOf } from './bullmq-progress';
import { ReporterInputError } from './errors';
import { JobOwnerCache, type JobOwner } from './job-owner-cache';
import { createReporter, type ProgressReporter, type ReporterEngine } from './reporter';

export type BullmqBridgeOptions = ({ engine: ReporterEngine; reporter?: undefined } | { reporter: ProgressReporter; engine?: undefined }) & {
  queueName: string;
  /** BullMQ connection options (a plain options object: QueueEvents needs a dedicated connection). */
  connection: ConnectionOptions;
  /** BullMQ key prefix (default `bull`). */
  prefix?: string;
  /** How far back in the events stream to start reading, in ms (default 60 000; 0 = only new events). */
  replayWindowMs?: number;
  /** Where to start reading instead (a stream id, `0` or `$`); overrides replayWindowMs. */
  lastEventId?: string;
  /** How long a job's task id and owner are remembered after their last use (default 10 min). */
  jobCacheMs?: number;
  logger?: Logger;
};

/** What happened to the events a bridge has read; a metrics collector reads these. */
export interface BridgeCounts {
  published: number;
  /** Already published (another bridge or a replay got there first). */
  duplicates: number;
  /** Progress values or results that are not valid task events: logged and skipped. */
  invalid: number;
  /** Progress for a task that had already finished (TaskFinishedError): logged and skipped. */
  refused: number;
  /** Redis or engine failures: logged, the event is lost for this bridge. */
  errors: number;
}

export interface BullmqBridge {
  readonly queueName: string;
  /** The events-stream id the bridge started reading after (`$`: only new events). */
  readonly fromEventId: string;
  /** Resolves once the events connection is ready. */
  ready(): Promise<void>;
  counts(): BridgeCounts;
  /** Resolves when every event read so far has been handled. */
  idle(): Promise<void>;
  /** Stops reading, finishes what was read, and closes the connections the bridge opened. */
  close(): Promise<void>;
}

type BridgeEvent =
  | { kind: 'added' }
  | { kind: 'active' }
  | { kind: 'progress'; data: unknown }
  | { kind: 'completed'; returnvalue: unknown }
  | { kind: 'failed'; failedReason: string };

/** Starts a bridge for one queue; it reads events until `close()`. */
export function startBullmqBridge(options: BullmqBridgeOptions): BullmqBridge {
  const { queueName, connection, prefix } = options;
  const reporter = options.reporter ?? createReporter(options.engine!);
  const logger = (options.logger ?? pino({ name: 'bullmq-bridge' })).child({ queue: queueName });
  const source = `bullmq:${queueName}`;
  const replayWindowMs = options.replayWindowMs ?? 60_000;
  const lastEventId = options.lastEventId ?? (replayWindowMs > 0 ? `${Math.max(0, Date.now() - replayWindowMs)}-0` : '$');
  const counts: BridgeCounts = { published: 0, duplicates: 0, invalid: 0, refused: 0, errors: 0 };

  const queue = new Queue(queueName, { connection, ...(prefix === undefined ? {} : { prefix }) });
  queue.on('error', (error) => {
    counts.errors += 1;
    logger.error({ err: error }, 'bullmq queue connection error');
  });
  const owners = new JobOwnerCache((jobId) => Job.fromId(queue, jobId), { ttlMs: options.jobCacheMs ?? 600_000 });
  const events = new QueueEvents(queueName, { connection, lastEventId, ...(prefix === undefined ? {} : { prefix }) });
  events.on('error', (error) => {
    counts.errors += 1;
    logger.error({ err: error }, 'bullmq events connection error');
  });

  /** Per job, the tail of its chain of pending publishes: one job's events go out in stream order. */
  const chains = new Map<string, Promise<void>>();
  function enqueue(jobId: string, streamId: string, event: BridgeEvent): void {
    const next = (chains.get(jobId) ?? Promise.resolve()).then(() => handle(jobId, streamId, event));
    chains.set(jobId, next);
    void next.then(() => {
      if (chains.get(jobId) === next) chains.delete(jobId);
    });
  }

  // Reading the job when it is added, not only when it starts, keeps its task id even when it runs and is
  // removed (removeOnComplete) before the bridge gets to it.
  events.on('added', ({ jobId }, id) => enqueue(jobId, id, { kind: 'added' }));
  events.on('active', ({ jobId }, id) => enqueue(jobId, id, { kind: 'active' }));
  events.on('progress', ({ jobId, data }, id) => enqueue(jobId, id, { kind: 'progress', data }));
  events.on('completed', ({ jobId, returnvalue }, id) => enqueue(jobId, id, { kind: 'completed', returnvalue }));
  events.on('failed', ({ jobId, failedReason }, id) => enqueue(jobId, id, { kind: 'failed', failedReason }));

  /** Never rejects: every outcome is counted, and every problem is logged with its context. */
  async function handle(jobId: string, streamId: string, event: BridgeEvent): Promise<void> {
    const context = { jobId, streamId, event: event.kind };
    let owner: JobOwner | undefined;
    try {
      // A job id is reused only after its job was removed, and a new job always emits `added` first.
      owner = await owners.resolve(jobId, event.kind === 'added');
      if (event.kind === 'added') return;
      if (owner.removed) logger.warn(context, 'job was removed before the bridge read it; using the job id as task id');
      const taskEvent = toTaskEvent(owner, event, streamTime(streamId));
      let result;
      try {
        result = await reporter.publish(taskEvent, { dedupe: { source, id: streamId }, method: `bullmq ${event.kind}` });
      } catch (error) {
        // A result too large or not JSON must not leave the task running forever: complete without it.
        if (!(error instanceof ReporterInputError && error.field === 'result')) throw error;
        counts.invalid += 1;
        logger.warn({ ...context, taskId: owner.taskId, problem: error.problem }, 'job result refused; completing without it');
        result = await reporter.publish({ ...taskEvent, result: undefined } as TaskEvent, { dedupe: { source, id: streamId } });
      }
      if (result.status === 'published') counts.published += 1;
      else counts.duplicates += 1;
    } catch (error) {
      const taskId = owner?.taskId;
      if (error instanceof ReporterInputError) {
        counts.invalid += 1;
        logger.warn({ ...context, taskId, field: error.field, problem: error.problem }, 'invalid job event skipped');
      } else if (error instanceof TaskFinishedError) {
        counts.refused += 1;
        logger.warn({ ...context, taskId }, 'progress for a finished task skipped');
      } else {
        counts.errors += 1;
        logger.error({ ...context, taskId, err: error }, 'could not publish job event');
      }
    } finally {
      if (event.kind === 'completed' || event.kind === 'failed') owners.forget(jobId);
    }
  }

  let closing: Promise<void> | undefined;
  const idle = async () => {
    while (chains.size > 0) await Promise.all([...chains.values()]);
  };
  return {
    queueName,
    fromEventId: lastEventId,
    ready: () => events.waitUntilReady().then(() => undefined),
    counts: () => ({ ...counts }),
    idle,
    close() {
      closing ??= (async () => {
        await events.close();
        await idle();
        await queue.close();
      })();
      return closing;
    },
  };
}

/** The event's own time, from its stream id: every bridge writes the same timestamp for one event. */
function streamTime(streamId: string): string {
  const ms = Number(streamId.split('-')[0]);
  return (Number.isFinite(ms) && ms > 0 ? new Date(ms) : new Date()).toISOString();
}

function toTaskEvent(owner: JobOwner, event: Exclude<BridgeEvent, { kind: 'added' }>, timestamp: string): TaskEvent {
  const { taskId } = owner;
  switch (event.kind) {
    case 'active':
      return { kind: 'start', taskId, userId: owner.userId, projectId: owner.projectId, timestamp };
    case 'progress':
      return progressEventOf(taskId, event.data, timestamp);
    case 'completed':
      return { kind: 'complete', taskId, result: event.returnvalue ?? undefined, timestamp };
    case 'failed': {
      const reason = event.failedReason || 'the job failed without a reason';
      const error = reason.length > LIMITS.errorChars ? `${reason.slice(0, LIMITS.errorChars - 1)}…` : reason;
      return { kind: 'fail', taskId, error, timestamp };
    }
  }
}
