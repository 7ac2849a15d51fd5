/**
 * The stats index (task counts by current status over the last 24 h), written after each publish by
 * lua/index-task-status-6.lua on its own `{idx}` slot: the publish script keeps only the task's keys, so
 * it stays atomic on one Redis Cluster shard. To keep the index's slot from taking every publish, a
 * process rewrites a task's entry only when its status changed or the entry it wrote is older than
 * INDEX_REFRESH_MS: the index then trails a long-running task's last event by at most that, and counts
 * it up to that long before its keys expire.
 */
import { LIMITS, TASK_STATUSES, type EncodedTaskEvent, type TaskStatus } from '@taskpulse/protocol';
import type { TaskStats } from './engine';
import type { EngineLogger } from './engine-logger';
import { loadLuaScript } from './lua-scripts';
import type { RedisCommands } from './redis-call';
import { redisCall } from './redis-call';
import { statusIndexKey, statusIndexPositionKey } from './redis-keys';

const indexTaskStatusScript = loadLuaScript('index-task-status');
const countTaskStatusesScript = loadLuaScript('count-task-statuses');

/** How stale a task's index entry may get while its status does not change. */
export const INDEX_REFRESH_MS = 60_000;
/** Past this many remembered tasks the memory of what was written is dropped (it only saves writes). */
const MAX_REMEMBERED = 100_000;

/** The status index on the engine's command connection (one Redis or a cluster). */
export class RedisStatusIndex {
  private readonly keys: string[];
  /** Per task: the status this process last wrote and when. */
  private readonly written = new Map<string, { status: string; at: number }>();

  constructor(
    private readonly redis: RedisCommands,
    prefix: string,
    private readonly now: () => number,
    private readonly logger: EngineLogger,
  ) {
    this.keys = [...TASK_STATUSES.map((status) => statusIndexKey(prefix, status)), statusIndexPositionKey(prefix)];
  }

  /**
   * Records the status a published event left its task in. Never throws: the event is published already
   * (a publisher that saw an error would publish it twice), so a failure is logged and retried with the
   * task's next event.
   */
  async record(event: EncodedTaskEvent, epoch: string, offset: number): Promise<void> {
    const status = event.set.find(([field]) => field === 'status')?.[1];
    if (status === undefined) return;
    const now = this.now();
    const last = this.written.get(event.taskId);
    if (last && last.status === status && now - last.at < INDEX_REFRESH_MS) return;
    if (this.written.size >= MAX_REMEMBERED) this.written.clear();
    this.written.set(event.taskId, { status, at: now });
    try {
      await redisCall(`index the status of task ${event.taskId}`, () =>
        indexTaskStatusScript.run(this.redis, this.keys, [event.taskId, status, now, epoch, offset]),
      );
    } catch (error) {
      this.written.delete(event.taskId);
      this.logger.warn({ err: error, taskId: event.taskId }, 'could not update the stats index; the next event of the task retries');
    }
  }

  /** Prunes entries older than the task keys' expiry and counts the rest by status. */
  async counts(): Promise<{ removed: number; stats: TaskStats }> {
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
}
