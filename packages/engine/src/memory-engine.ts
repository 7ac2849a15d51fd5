/**
 * The embedded engine: one process, no Redis. Same semantics, caps and expiry as the Redis engine;
 * every publish is one synchronous function, so it is atomic by construction.
 */
import {
  fillTaskFrame,
  isTaskStatus,
  isTerminalStatus,
  LIMITS,
  TASK_STATUSES,
  taskChannel,
  type EncodedTaskEvent,
  type SnapshotTexts,
  type TaskStatus,
} from '@taskpulse/protocol';
import type {
  BatchEvent,
  BatchPublishResult,
  ChannelListener,
  ConnectionSession,
  ConnectionStats,
  LinkEvent,
  DedupeKey,
  Engine,
  HistoryPage,
  NodeReport,
  NodeReportResult,
  PublishResult,
  ReplayResult,
  TaskSnapshot,
  TaskState,
  TaskStats,
} from './engine';
import { EngineError, TaskFinishedError } from './errors';
import { historyPage } from './history-page';
import { applyCountChanges, checkAfterOffset, checkDedupeKey, checkLimit, checkTtl, copySession, isNewerStreamId, newEpoch, sumNodeReports } from './shared';
import { ChannelListeners } from './channel-listeners';

interface MemoryTask {
  epoch: string;
  offset: number;
  fields: SnapshotTexts;
  /** Oldest first, at most LIMITS.historyEntries; entry i has offset `offset - history.length + 1 + i`. */
  history: Buffer[];
  /** The newest frame of each type with its offset: what a new subscriber is sent. */
  lastProgress?: { offset: number; frame: Buffer };
  lastStatus?: { offset: number; frame: Buffer };
  lastSourceIds: Map<string, string>;
  expiresAt: number;
}

export interface MemoryEngineOptions {
  /** Key and channel prefix (default `tp`). */
  prefix?: string;
  /** The clock, in ms; tests move it to check expiry. */
  now?: () => number;
}

/** Creates the in-memory engine. */
export function createMemoryEngine(options: MemoryEngineOptions = {}): MemoryEngine {
  return new MemoryEngine(options);
}

export class MemoryEngine implements Engine {
  readonly kind = 'memory' as const;
  readonly prefix: string;
  private readonly now: () => number;
  private readonly tasks = new Map<string, MemoryTask>();
  private readonly listeners = new ChannelListeners();
  private readonly nodes = new Map<string, { report: NodeReport; expiresAt: number }>();
  private readonly sessions = new Map<string, { session: ConnectionSession; expiresAt: number }>();
  private readonly linkListeners = new Set<(event: LinkEvent) => void>();
  private closed = false;

  constructor(options: MemoryEngineOptions = {}) {
    this.prefix = options.prefix ?? 'tp';
    this.now = options.now ?? Date.now;
  }

  isReady(): boolean {
    return !this.closed;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
  }

  private live(taskId: string): MemoryTask | undefined {
    const task = this.tasks.get(taskId);
    if (task && task.expiresAt <= this.now()) {
      this.tasks.delete(taskId);
      return undefined;
    }
    return task;
  }

  async publish(event: EncodedTaskEvent, options: { dedupe?: DedupeKey } = {}): Promise<PublishResult> {
    return this.apply(event, options.dedupe);
  }

  /** The whole batch at once, before the first await: a call made after this one is applied after it. */
  async publishBatch(events: readonly BatchEvent[]): Promise<BatchPublishResult[]> {
    return events.map(({ event, dedupe }) => {
      try {
        return this.apply(event, dedupe);
      } catch (error) {
        if (!(error instanceof EngineError)) throw error;
        return { status: 'error', error };
      }
    });
  }

  /** One event, synchronously: what makes publish atomic and keeps calls in call order. */
  private apply(event: EncodedTaskEvent, dedupe: DedupeKey | undefined): PublishResult {
    if (dedupe) checkDedupeKey(dedupe);
    let task = this.live(event.taskId);
    if (task && dedupe) {
      const last = task.lastSourceIds.get(dedupe.source);
      if (last !== undefined && !isNewerStreamId(dedupe.id, last)) return { status: 'duplicate' };
    }
    if (event.frameType === 'progress' && task) {
      const status = parseStatus(task.fields.status);
      if (status && isTerminalStatus(status)) throw new TaskFinishedError(event.taskId, status);
    }
    if (!task) {
      task = { epoch: newEpoch(), offset: 0, fields: {}, history: [], lastSourceIds: new Map(), expiresAt: 0 };
      this.tasks.set(event.taskId, task);
    }
    for (const [field, value] of event.set) task.fields[field] = value;
    for (const field of event.unset) delete task.fields[field];
    if (dedupe) task.lastSourceIds.set(dedupe.source, dedupe.id);
    task.offset += 1;
    task.expiresAt = this.now() + LIMITS.historyTtlSeconds * 1000;
    const frame = Buffer.from(fillTaskFrame(event.frame, task.offset, task.epoch, task.fields));
    task.history.push(frame);
    if (task.history.length > LIMITS.historyEntries) task.history.shift();
    if (event.frameType === 'progress') task.lastProgress = { offset: task.offset, frame };
    else task.lastStatus = { offset: task.offset, frame };
    this.listeners.emit(taskChannel(this.prefix, event.taskId), frame);
    return { status: 'published', offset: task.offset, epoch: task.epoch, frame };
  }

  async latest(taskId: string): Promise<TaskState | null> {
    const task = this.live(taskId);
    if (!task) return null;
    const frames = [task.lastStatus, task.lastProgress]
      .filter((last) => last !== undefined)
      .sort((a, b) => a.offset - b.offset)
      .map((last) => last.frame);
    return { taskId, offset: task.offset, epoch: task.epoch, fields: { ...task.fields }, frames };
  }

  async snapshot(taskId: string): Promise<TaskSnapshot | null> {
    const task = this.live(taskId);
    if (!task) return null;
    return { taskId, offset: task.offset, epoch: task.epoch, fields: { ...task.fields } };
  }

  async history(taskId: string, limit: number): Promise<HistoryPage | null> {
    checkLimit(limit);
    const task = this.live(taskId);
    if (!task) return null;
    const frames = limit === 0 ? [] : task.history.slice(-limit).reverse();
    return historyPage(task.offset, task.epoch, frames);
  }

  async replay(taskId: string, afterOffset: number, limit: number): Promise<ReplayResult | null> {
    checkLimit(limit);
    checkAfterOffset(afterOffset);
    const task = this.live(taskId);
    if (!task) return null;
    const firstKept = task.offset - task.history.length + 1;
    const start = Math.max(afterOffset + 1, firstKept);
    const frames = limit === 0 ? [] : task.history.slice(start - firstKept, start - firstKept + limit);
    const complete = afterOffset >= task.offset || afterOffset + 1 >= firstKept;
    return { offset: task.offset, epoch: task.epoch, frames, complete };
  }

  async stats(): Promise<TaskStats> {
    const byStatus = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;
    let tasks = 0;
    for (const taskId of [...this.tasks.keys()]) {
      const task = this.live(taskId);
      if (!task) continue;
      tasks += 1;
      const status = parseStatus(task.fields.status);
      if (status) byStatus[status] += 1;
    }
    return { tasks, by_status: byStatus };
  }

  async cleanupOldHistory(): Promise<number> {
    let dropped = 0;
    for (const taskId of [...this.tasks.keys()]) if (!this.live(taskId)) dropped += 1;
    const now = this.now();
    for (const [nodeId, node] of this.nodes) if (node.expiresAt <= now) this.nodes.delete(nodeId);
    for (const [clientId, kept] of this.sessions) if (kept.expiresAt <= now) this.sessions.delete(clientId);
    return dropped;
  }

  async subscribe(channel: string, listener: ChannelListener): Promise<void> {
    this.listeners.add(channel, listener);
  }

  async unsubscribe(channel: string, listener: ChannelListener): Promise<void> {
    this.listeners.remove(channel, listener);
  }

  async broadcast(channel: string, frame: string | Buffer): Promise<number> {
    return this.listeners.emit(channel, typeof frame === 'string' ? Buffer.from(frame) : frame);
  }

  async reportNode(report: NodeReport, ttlSeconds: number): Promise<NodeReportResult> {
    const expiresAt = this.now() + ttlSeconds * 1000;
    const { nodeId, total } = report;
    if (!report.changesOnly) {
      this.nodes.set(nodeId, { report: { nodeId, total, byUser: { ...report.byUser }, byProject: { ...report.byProject } }, expiresAt });
      return 'recorded';
    }
    const held = this.nodes.get(nodeId);
    if (!held || held.expiresAt <= this.now()) return 'needs_whole';
    held.report.total = total;
    applyCountChanges(held.report.byUser, report.byUser);
    applyCountChanges(held.report.byProject, report.byProject);
    held.expiresAt = expiresAt;
    return 'recorded';
  }

  async removeNode(nodeId: string): Promise<void> {
    this.nodes.delete(nodeId);
  }

  async connectionStats(): Promise<ConnectionStats> {
    const now = this.now();
    const live = [...this.nodes.values()].filter((n) => n.expiresAt > now).map((n) => n.report);
    return sumNodeReports(live);
  }

  async saveSession(clientId: string, session: ConnectionSession, ttlSeconds: number): Promise<void> {
    checkTtl(ttlSeconds);
    this.sessions.set(clientId, { session: copySession(session), expiresAt: this.now() + ttlSeconds * 1000 });
  }

  async saveSessions(sessions: ReadonlyArray<{ clientId: string; session: ConnectionSession }>, ttlSeconds: number): Promise<void> {
    checkTtl(ttlSeconds);
    for (const { clientId, session } of sessions) await this.saveSession(clientId, session, ttlSeconds);
  }

  async touchSessions(clientIds: readonly string[], ttlSeconds: number): Promise<void> {
    checkTtl(ttlSeconds);
    const expiresAt = this.now() + ttlSeconds * 1000;
    for (const clientId of clientIds) {
      const kept = this.sessions.get(clientId);
      if (kept && kept.expiresAt > this.now()) kept.expiresAt = expiresAt;
    }
  }

  async loadSession(clientId: string): Promise<ConnectionSession | null> {
    const kept = this.sessions.get(clientId);
    if (!kept) return null;
    if (kept.expiresAt <= this.now()) {
      this.sessions.delete(clientId);
      return null;
    }
    return copySession(kept.session);
  }

  /** Lets a test play a subscriber link loss and return, as the Redis engine reports them. */
  simulateLink(event: LinkEvent): void {
    for (const listener of [...this.linkListeners]) listener(event);
  }

  /** One process, no link to lose: fires only through simulateLink. */
  onLinkChange(listener: (event: LinkEvent) => void): () => void {
    this.linkListeners.add(listener);
    return () => this.linkListeners.delete(listener);
  }
}

function parseStatus(text: string | undefined): TaskStatus | undefined {
  if (text === undefined) return undefined;
  const value: unknown = JSON.parse(text);
  return isTaskStatus(value) ? value : undefined;
}
