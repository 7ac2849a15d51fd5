/**
 * The stats index (task counts by current status over the last 24 h), written after each publish by
 * lua/index-task-status-6.lua on its own `{idx}` slot: the publish script keeps only the task's keys, so
 * it stays atomic on one Redis Cluster shard. On a cluster that slot may live on another master than the
 * task, so a publish never waits for the index: `record` queues the task's newest status (one entry per
 * task, a newer event replaces an older one) and a background flush writes the queue; a failed write
 * stays queued and is retried with backoff, logged and counted (a publish must not fail or stall because
 * a second shard is down). To keep the index's slot from taking every publish, a process rewrites a
 * task's entry only when its status changed or the entry it wrote is older than INDEX_REFRESH_MS: the
 * index then trails a long-running task's last event by at most that, and counts it up to that long
 * before its keys expire. `counts` first writes what this process still has queued, so a process reads
 * its own writes.
 */
import { LIMITS, TASK_STATUSES, type EncodedTaskEvent, type TaskStatus } from '@taskpulse/protocol';
import type { TaskStats } from './engine';
import type { EngineLogger } from './engine-logger';
import { loadLuaScript, type ScriptCall } from './lua-scripts';
import type { RedisCommands } from './redis-call';
import { asEngineError, redisCall } from './redis-call';
import { statusIndexKey, statusIndexPositionKey } from './redis-keys';
import type { RedisEngineMetrics } from './redis-metrics';

const indexTaskStatusScript = loadLuaScript('index-task-status');
const countTaskStatusesScript = loadLuaScript('count-task-statuses');

/** How stale a task's index entry may get while its status does not change. */
export const INDEX_REFRESH_MS = 60_000;
/** Past this many remembered tasks the memory of what was written is dropped (it only saves writes). */
const MAX_REMEMBERED = 100_000;
/** Past this many queued tasks the oldest queued entry is dropped (counted, logged): memory stays bounded while the index is down. */
export const MAX_QUEUED_INDEX_WRITES = 100_000;
/** Entries written per round trip (one pipeline on one Redis; on a cluster all go to the `{idx}` shard). */
const FLUSH_BATCH = 500;
/** How long close() waits for the last flush. */
const CLOSE_FLUSH_MS = 3000;
/** Retry delays after failed flushes: doubling from the first to the last, then staying there. */
export const INDEX_RETRY_DELAYS_MS = { first: 100, max: 5000 } as const;

/** A task's status waiting to be written, with the position of the event that set it. */
interface QueuedStatus {
  taskId: string;
  status: string;
  at: number;
  epoch: string;
  offset: number;
}

/** The status index on the engine's command connection (one Redis or a cluster). */
export class RedisStatusIndex {
  private readonly keys: string[];
  /** Per task: the status this process last queued and when (what makes an unchanged status skip). */
  private readonly written = new Map<string, { status: string; at: number }>();
  /** Per task: the newest status not yet written, oldest task first. */
  private readonly queued = new Map<string, QueuedStatus>();
  /** The running flush, if any; it writes until the queue is empty or a write fails. */
  private flushing: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Failed flushes in a row, for the backoff. */
  private failedFlushes = 0;
  private closed = false;
  /** Queued writes dropped because the queue was full, since start. */
  private dropped = 0;

  constructor(
    private readonly redis: RedisCommands,
    prefix: string,
    private readonly now: () => number,
    private readonly logger: EngineLogger,
    private readonly metrics?: RedisEngineMetrics,
  ) {
    this.keys = [...TASK_STATUSES.map((status) => statusIndexKey(prefix, status)), statusIndexPositionKey(prefix)];
  }

  /**
   * Queues the status a published event left its task in and returns at once: the event is published
   * already, and neither its publisher nor its result may wait for the index's shard. Never throws.
   */
  record(event: EncodedTaskEvent, epoch: string, offset: number): void {
    const status = event.set.find(([field]) => field === 'status')?.[1];
    if (status === undefined || this.closed) return;
    const now = this.now();
    const last = this.written.get(event.taskId);
    const waiting = this.queued.has(event.taskId);
    if (!waiting && last && last.status === status && now - last.at < INDEX_REFRESH_MS) return;
    if (this.written.size >= MAX_REMEMBERED) this.written.clear();
    this.written.set(event.taskId, { status, at: now });
    if (!waiting && this.queued.size >= MAX_QUEUED_INDEX_WRITES) this.dropOldest();
    this.queued.delete(event.taskId);
    this.queued.set(event.taskId, { taskId: event.taskId, status, at: now, epoch, offset });
    this.startFlush();
  }

  /** How many tasks wait for their index write (for tests and metrics). */
  queuedWrites(): number {
    return this.queued.size;
  }

  /** Writes what is queued now (waiting for a running flush first); a failure stays queued for the retry. Never throws. */
  async flush(): Promise<void> {
    if (this.flushing) await this.flushing;
    if (this.queued.size === 0) return;
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    this.startFlush();
    await this.flushing;
  }

  /** Writes what is queued once more (for at most CLOSE_FLUSH_MS), then stops; what is left is dropped, counted and logged. */
  async close(): Promise<void> {
    if (this.closed) return;
    // bounded on its own: a cluster client that is not ready queues commands without any timeout
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.flush(), new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_FLUSH_MS)))]);
    clearTimeout(timer);
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.queued.size > 0) {
      this.metrics?.statusIndexDropped.inc(this.queued.size);
      this.logger.warn({ tasks: this.queued.size, example: this.queued.keys().next().value }, 'engine closed with stats index writes still failing; the index misses these tasks until their next event');
      this.queued.clear();
    }
  }

  /** Prunes entries older than the task keys' expiry and counts the rest by status, after writing this process's queue. */
  async counts(): Promise<{ removed: number; stats: TaskStats }> {
    await this.flush();
    const cutoff = this.now() - LIMITS.historyTtlSeconds * 1000;
    const reply = (await redisCall('count tasks by status', () => countTaskStatusesScript.run(this.redis, this.keys, [cutoff]))) as number[];
    const [removed = 0, ...counts] = reply;
    const byStatus = {} as Record<TaskStatus, number>;
    let tasks = 0;
    TASK_STATUSES.forEach((status, i) => {
      const count = Number(counts[i] ?? 0);
      byStatus[status] = count;
      tasks += count;
    });
    return { removed: Number(removed), stats: { tasks, by_status: byStatus } };
  }

  private startFlush(): void {
    if (this.flushing || this.retryTimer || this.closed) return;
    this.flushing = this.writeQueue().finally(() => {
      this.flushing = undefined;
    });
  }

  /** Writes the queue in batches until it is empty; on a failure puts the failed entries back and arms the retry. */
  private async writeQueue(): Promise<void> {
    while (this.queued.size > 0) {
      const batch: QueuedStatus[] = [];
      for (const entry of this.queued.values()) {
        batch.push(entry);
        if (batch.length === FLUSH_BATCH) break;
      }
      for (const entry of batch) this.queued.delete(entry.taskId);
      const calls: ScriptCall[] = batch.map((e) => ({ keys: this.keys, args: [e.taskId, e.status, e.at, e.epoch, e.offset] }));
      let errors: Array<Error | undefined>;
      try {
        errors = (await indexTaskStatusScript.runMany(this.redis, calls)).map((outcome) => outcome.error);
      } catch (error) {
        errors = batch.map(() => (error instanceof Error ? error : new Error(String(error))));
      }
      const failed = batch.filter((_, i) => errors[i] !== undefined);
      if (failed.length === 0) {
        this.failedFlushes = 0;
        continue;
      }
      // a newer event of the task queued meanwhile wins over the failed one
      for (const entry of failed) if (!this.queued.has(entry.taskId)) this.queued.set(entry.taskId, entry);
      this.failedFlushes++;
      this.metrics?.statusIndexWriteFailures.inc(failed.length);
      const delay = Math.min(INDEX_RETRY_DELAYS_MS.first * 2 ** (this.failedFlushes - 1), INDEX_RETRY_DELAYS_MS.max);
      this.logger.warn(
        { err: asEngineError(errors.find((e) => e !== undefined), `index the status of ${failed.length} tasks`), tasks: failed.length, example: failed[0]!.taskId, failedInARow: this.failedFlushes, retryInMs: delay },
        'could not update the stats index; the writes stay queued and are retried',
      );
      if (!this.closed) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.startFlush();
        }, delay);
        this.retryTimer.unref();
      }
      return;
    }
  }

  private dropOldest(): void {
    const oldest = this.queued.keys().next().value;
    if (oldest === undefined) return;
    this.queued.delete(oldest);
    this.written.delete(oldest);
    this.metrics?.statusIndexDropped.inc();
    this.dropped++;
    // the first drop and then one in a thousand: a long outage must not flood the log
    if (this.dropped % 1000 === 1) {
      this.logger.warn({ taskId: oldest, queued: MAX_QUEUED_INDEX_WRITES, droppedSoFar: this.dropped }, 'stats index queue full: dropped the oldest queued write (the task is indexed again at its next event)');
    }
  }
}
