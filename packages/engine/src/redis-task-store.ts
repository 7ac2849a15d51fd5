/**
 * The Redis task store: publish is one run of lua/publish-task-events-2.lua (a batch of one; one round trip,
 * atomic), publishBatch a pipeline of runs of up to 100 events; the stats index (redis-status-index.ts) is
 * queued after them and written in the background, never awaited;
 * history is one run of lua/read-history-2.lua (the frames come back as one flat array); the other reads
 * are one command or one MULTI each, so a page's offset and epoch always belong to its frames.
 */
import calculateSlot from 'cluster-key-slot';
import { LIMITS, SNAPSHOT_FIELDS, type EncodedTaskEvent, type FrameTemplate, type SnapshotTexts } from '@taskpulse/protocol';
import type {
  BatchEvent,
  BatchPublishResult,
  DedupeKey,
  HistoryPage,
  PublishResult,
  ReplayResult,
  TaskSnapshot,
  TaskState,
  TaskStats,
  TaskStore,
} from './engine';
import type { EngineLogger } from './engine-logger';
import { EngineError } from './errors';
import { historyPage } from './history-page';
import { loadLuaScript, type ScriptCall } from './lua-scripts';
import { asEngineError, execMulti, redisCall, type RedisCommands } from './redis-call';
import type { RedisEngineMetrics } from './redis-metrics';
import { META_FIELDS, taskKeys } from './redis-keys';
import { RedisStatusIndex } from './redis-status-index';
import { ScriptCode, scriptCodeError } from './script-codes';
import { checkAfterOffset, checkDedupeKey, checkLimit, newEpoch } from './shared';

/** Read once per process; every engine runs the same script text. Two keys per event of a run. */
export const publishTaskEventsScript = loadLuaScript('publish-task-events', { repeatsKeys: true });

/**
 * Events per run of the publish script: enough to spread an EVALSHA's fixed cost, few enough that one run
 * keeps Redis from other clients for about a millisecond (~10 µs of Redis CPU per event).
 */
export const EVENTS_PER_RUN = 100;
/** Read once per process, like the publish script. */
export const readHistoryScript = loadLuaScript('read-history');

/**
 * The frame template as the publish script takes it: text, (offset), text, (epoch), text, then per field
 * slot its fallback and the text after it. Protocol opens the offset and epoch first, in that order.
 */
function templateArgs({ texts, slots }: FrameTemplate): string[] {
  if (slots[0]?.kind !== 'offset' || slots[1]?.kind !== 'epoch') {
    throw new EngineError('internal', 'a task frame template must open its offset, then its epoch, before any field');
  }
  const args = [texts[0]!, texts[1]!, texts[2]!];
  slots.forEach((slot, i) => {
    if (i < 2) return;
    if (slot.kind !== 'field') throw new EngineError('internal', `a task frame template opens its ${slot.kind} twice`);
    args.push(slot.fallback, texts[i + 1]!);
  });
  return args;
}

/** read-history's reply `{-1, entry id}`: an entry without the field publish-task-events writes. */
const HISTORY_ENTRY_WITHOUT_FRAME = -1;

/** What snapshot() reads: position first, then the snapshot fields in SNAPSHOT_FIELDS order. */
const SNAPSHOT_READ = [META_FIELDS.epoch, META_FIELDS.offset, ...SNAPSHOT_FIELDS];

type StreamEntry = [id: Buffer, fields: Buffer[]];

/**
 * Where the store runs. `cluster`: frames go out with SPUBLISH (sharded pub/sub: the frame stays on the
 * shard that owns the task instead of crossing the whole cluster bus), and a task first written after a
 * failover starts a new epoch (the promoted replica may lack its newest writes: see the publish script).
 */
export type RedisTopology = 'single' | 'cluster';

/** TaskStore on the engine's command connection (one Redis, or a cluster: every call touches one task's slot). */
export class RedisTaskStore implements TaskStore {
  private readonly index: RedisStatusIndex;
  private readonly eventsPerRun: number;

  constructor(
    private readonly redis: RedisCommands,
    private readonly prefix: string,
    private readonly now: () => number,
    logger: EngineLogger,
    private readonly topology: RedisTopology = 'single',
    options: {
      metrics?: RedisEngineMetrics;
      /** Events per script run in publishBatch; 1 is the pipeline of one run per event (what bench/src/micro/publish-batch-runs.ts compares). */
      eventsPerRun?: number;
    } = {},
  ) {
    this.index = new RedisStatusIndex(redis, prefix, now, logger, options.metrics);
    this.eventsPerRun = options.eventsPerRun ?? EVENTS_PER_RUN;
  }

  /** Writes the queued stats index entries once more, then stops the index; call before closing the connection. */
  async close(): Promise<void> {
    await this.index.close();
  }

  /** How many tasks wait for their stats index write (0 once the index's shard answers). */
  queuedIndexWrites(): number {
    return this.index.queuedWrites();
  }

  /** A batch of one: the same script run as publishBatch's. */
  async publish(event: EncodedTaskEvent, options: { dedupe?: DedupeKey } = {}): Promise<PublishResult> {
    const { keys, args } = this.eventCall(event, options.dedupe);
    const reply = await redisCall(`publish an event of task ${event.taskId}`, () =>
      publishTaskEventsScript.run(this.redis, keys, [...this.runHeader(), ...args]),
    );
    const result = publishOutcome((reply as unknown[])[0], event.taskId);
    // queued, not awaited: the index's `{idx}` slot may be on another shard, which must not hold up a publish
    if (result.status === 'published') this.index.record(event, result.epoch, result.offset);
    return result;
  }

  /**
   * Runs of the publish script of up to EVENTS_PER_RUN events each, all in one pipeline (LuaScript.runMany);
   * on a cluster a run holds events of one slot only, in call order. An event's own refusal or failed
   * command stays with that event; a run that fails as a whole (connection, NOSCRIPT twice) fails its events.
   */
  async publishBatch(events: readonly BatchEvent[]): Promise<BatchPublishResult[]> {
    const results: Array<BatchPublishResult | undefined> = new Array(events.length);
    const groups = new Map<number, Array<{ index: number; call: ScriptCall }>>();
    events.forEach(({ event, dedupe }, index) => {
      try {
        const call = this.eventCall(event, dedupe);
        const slot = this.topology === 'cluster' ? calculateSlot(call.keys[0]!) : 0;
        let group = groups.get(slot);
        if (!group) groups.set(slot, (group = []));
        group.push({ index, call });
      } catch (error) {
        if (!(error instanceof EngineError)) throw error;
        results[index] = { status: 'error', error };
      }
    });
    const runs: Array<{ indexes: number[]; call: ScriptCall }> = [];
    for (const group of groups.values()) {
      for (let from = 0; from < group.length; from += this.eventsPerRun) {
        // one keys and one args array per run, filled in place (a run holds up to thousands of arguments)
        const run = { indexes: [] as number[], call: { keys: [] as string[], args: this.runHeader() } };
        for (const member of group.slice(from, from + this.eventsPerRun)) {
          run.indexes.push(member.index);
          run.call.keys.push(member.call.keys[0]!, member.call.keys[1]!);
          for (const arg of member.call.args) run.call.args.push(arg);
        }
        runs.push(run);
      }
    }
    const outcomes = runs.length === 0 ? [] : await redisCall(`publish a batch of ${events.length} events`, () =>
      publishTaskEventsScript.runMany(this.redis, runs.map((run) => run.call)),
    );
    outcomes.forEach((outcome, r) => {
      const { indexes } = runs[r]!;
      indexes.forEach((index, k) => {
        const { taskId } = events[index]!.event;
        try {
          if (outcome.error) throw outcome.error;
          results[index] = publishOutcome((outcome.reply as unknown[])[k], taskId);
        } catch (error) {
          results[index] = { status: 'error', error: asEngineError(error, `publish an event of task ${taskId}`) };
        }
      });
    });
    // the stats index after the batch, queued in event order (record never throws nor waits)
    results.forEach((result, i) => {
      if (result?.status === 'published') this.index.record(events[i]!.event, result.epoch, result.offset);
    });
    return results as BatchPublishResult[];
  }

  /** The arguments a run of the publish script opens with, shared by its events. */
  private runHeader(): Array<string | number | Buffer> {
    return [this.now(), LIMITS.historyTtlSeconds, LIMITS.historyEntries, this.topology, newEpoch()];
  }

  /** One event's keys and arguments in a run of the publish script; throws EngineArgumentError for a bad dedupe key. */
  private eventCall(event: EncodedTaskEvent, dedupe: DedupeKey | undefined): ScriptCall {
    if (dedupe) checkDedupeKey(dedupe);
    const keys = taskKeys(this.prefix, event.taskId);
    const fieldSlots = event.frame.slots.filter((slot) => slot.kind === 'field');
    const sourceField = dedupe ? `${META_FIELDS.sourcePrefix}${dedupe.source}` : undefined;
    const args: Array<string | number> = [
      keys.channel,
      event.frameType,
      dedupe?.id ?? '',
      fieldSlots.length,
      event.set.length + (dedupe ? 1 : 0),
      event.unset.length,
    ];
    for (const slot of fieldSlots) args.push(slot.field);
    if (sourceField) args.push(sourceField);
    for (const [field, value] of event.set) args.push(field, value);
    if (sourceField) args.push(sourceField, dedupe!.id);
    args.push(...event.unset, ...templateArgs(event.frame));
    return { keys: [keys.history, keys.meta], args };
  }

  async latest(taskId: string): Promise<TaskState | null> {
    const { meta } = taskKeys(this.prefix, taskId);
    const hash = await redisCall(`read the snapshot of task ${taskId}`, () => this.redis.hgetallBuffer(meta));
    const epoch = hash[META_FIELDS.epoch];
    if (!epoch) return null;
    const fields: SnapshotTexts = {};
    for (const field of SNAPSHOT_FIELDS) {
      const value = hash[field];
      if (value !== undefined) fields[field] = value.toString();
    }
    const newest = [
      { offset: hash[META_FIELDS.statusOffset], frame: hash[META_FIELDS.statusFrame] },
      { offset: hash[META_FIELDS.progressOffset], frame: hash[META_FIELDS.progressFrame] },
    ].flatMap(({ offset, frame }) => (offset && frame ? [{ offset: Number(offset.toString()), frame }] : []));
    newest.sort((a, b) => a.offset - b.offset);
    return {
      taskId,
      offset: Number(hash[META_FIELDS.offset]?.toString() ?? 0),
      epoch: epoch.toString(),
      fields,
      frames: newest.map((last) => last.frame),
    };
  }

  /** One HMGET of the position and the snapshot fields: no frames, no bookkeeping fields. */
  async snapshot(taskId: string): Promise<TaskSnapshot | null> {
    const { meta } = taskKeys(this.prefix, taskId);
    const values = await redisCall(`read the snapshot of task ${taskId}`, () => this.redis.hmget(meta, ...SNAPSHOT_READ));
    const [epoch, offset] = values;
    if (!epoch) return null;
    const fields: SnapshotTexts = {};
    SNAPSHOT_FIELDS.forEach((field, i) => {
      const value = values[i + 2];
      if (value !== null && value !== undefined) fields[field] = value;
    });
    return { taskId, offset: Number(offset ?? 0), epoch, fields };
  }

  async history(taskId: string, limit: number): Promise<HistoryPage | null> {
    checkLimit(limit);
    const keys = taskKeys(this.prefix, taskId);
    const reply = (await redisCall(`read the history of task ${taskId}`, () =>
      readHistoryScript.run(this.redis, [keys.history, keys.meta], [limit]),
    )) as null | [number, Buffer, ...Buffer[]];
    if (reply === null) return null;
    const [offset, epoch, ...frames] = reply;
    if (offset === HISTORY_ENTRY_WITHOUT_FRAME) {
      throw new EngineError('internal', `history entry ${epoch.toString()} of task ${taskId} has no frame field`, taskId);
    }
    return historyPage(offset, epoch.toString(), frames);
  }

  async replay(taskId: string, afterOffset: number, limit: number): Promise<ReplayResult | null> {
    checkLimit(limit);
    checkAfterOffset(afterOffset);
    const keys = taskKeys(this.prefix, taskId);
    // at least one entry even for limit 0: the first entry after the position tells whether the history reaches back
    const [position, entries] = await execMulti(
      `replay task ${taskId}`,
      this.redis
        .multi()
        .hmget(keys.meta, META_FIELDS.offset, META_FIELDS.epoch)
        .xrangeBuffer(keys.history, `${afterOffset + 1}-0`, '+', 'COUNT', Math.max(limit, 1)),
    );
    const [offsetText, epoch] = position as [string | null, string | null];
    if (epoch === null) return null;
    const offset = Number(offsetText ?? 0);
    const found = entries as StreamEntry[];
    const first = found[0];
    const complete = afterOffset >= offset || (first !== undefined && entryOffset(first) === afterOffset + 1);
    return { offset, epoch, frames: found.slice(0, limit).map(entryFrame), complete };
  }

  async stats(): Promise<TaskStats> {
    return (await this.index.counts()).stats;
  }

  /** Redis expires the task keys on its own; this prunes the status index and returns the entries removed. */
  async cleanupOldHistory(): Promise<number> {
    return (await this.index.counts()).removed;
  }
}

/** The publish script's reply as a PublishResult; a refusal code throws its typed error. */
function publishOutcome(reply: unknown, taskId: string): PublishResult {
  const [code, ...rest] = reply as [number, ...Array<number | Buffer>];
  if (code === ScriptCode.Published) {
    const [offset, epoch, frame] = rest as [number, Buffer, Buffer];
    return { status: 'published', offset, epoch: epoch.toString(), frame };
  }
  if (code === ScriptCode.Duplicate) return { status: 'duplicate' };
  throw scriptCodeError(code, taskId, String(rest[0] ?? ''));
}

function entryFrame(entry: StreamEntry): Buffer {
  const frame = entry[1][1];
  if (!frame) throw new EngineError('internal', `history entry ${entry[0].toString()} has no frame field`);
  return frame;
}

function entryOffset(entry: StreamEntry): number {
  return Number.parseInt(entry[0].toString(), 10);
}
