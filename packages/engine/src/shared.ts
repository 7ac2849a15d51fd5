/** Small rules both engines share, so that they cannot drift apart. */
import { randomUUID } from 'node:crypto';
import { LIMITS } from '@taskpulse/protocol';
import type { ConnectionSession, ConnectionStats, DedupeKey, NodeReport, SessionIdentity, TaskPosition } from './engine';
import { EngineArgumentError } from './errors';

/**
 * A fresh epoch candidate: 12 hex characters ([a-z0-9] only, so it needs no escaping inside a frame).
 * Every Redis publish sends one (the script keeps it only for a new task), so it must be cheap:
 * randomUUID draws from a pooled buffer, where randomBytes(8) cost a synchronous call each time.
 */
export function newEpoch(): string {
  const uuid = randomUUID();
  return uuid.slice(0, 8) + uuid.slice(9, 13);
}

/** Throws unless 0 <= limit <= 100 and whole. */
export function checkLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 0 || limit > LIMITS.historyEntries) {
    throw new EngineArgumentError(`limit must be a whole number from 0 to ${LIMITS.historyEntries}, got ${limit}`);
  }
}

/** Throws unless `afterOffset` is a whole number >= 0 (a replay position). */
export function checkAfterOffset(afterOffset: number): void {
  if (!Number.isSafeInteger(afterOffset) || afterOffset < 0) {
    throw new EngineArgumentError(`afterOffset must be a whole number >= 0, got ${afterOffset}`);
  }
}

const STREAM_ID = /^\d{1,20}(-\d{1,20})?$/;

/** Throws unless the dedupe key names a source and carries a stream id `<ms>-<seq>` (or `<ms>`). */
export function checkDedupeKey(dedupe: DedupeKey): void {
  if (typeof dedupe.source !== 'string' || dedupe.source.length === 0 || dedupe.source.length > 256) {
    throw new EngineArgumentError(`dedupe.source must be a non-empty string of at most 256 characters, got ${JSON.stringify(dedupe.source)}`);
  }
  if (typeof dedupe.id !== 'string' || !STREAM_ID.test(dedupe.id)) {
    throw new EngineArgumentError(`dedupe.id must be a stream id <ms>-<seq>, got ${JSON.stringify(dedupe.id)}`);
  }
}

/** True when stream id `a` (`<ms>-<seq>`) is newer than `b`. */
export function isNewerStreamId(a: string, b: string): boolean {
  const [aMs = 0, aSeq = 0] = a.split('-').map(Number);
  const [bMs = 0, bSeq = 0] = b.split('-').map(Number);
  return aMs > bMs || (aMs === bMs && aSeq > bSeq);
}

/** Sums node reports into the guide's `websocket/stats` shape. */
export function sumNodeReports(reports: NodeReport[]): ConnectionStats {
  const stats: ConnectionStats = { total_clients: 0, by_user: {}, by_project: {}, nodes: reports.length };
  for (const report of reports) {
    stats.total_clients += report.total;
    for (const [user, count] of Object.entries(report.byUser)) stats.by_user[user] = (stats.by_user[user] ?? 0) + count;
    for (const [project, count] of Object.entries(report.byProject)) {
      stats.by_project[project] = (stats.by_project[project] ?? 0) + count;
    }
  }
  return stats;
}

/** Applies a changes-only report's entries to held counts: a new count replaces the old, 0 removes the entry. */
export function applyCountChanges(counts: Record<string, number>, changes: Record<string, number>): void {
  for (const [key, count] of Object.entries(changes)) {
    if (count > 0) counts[key] = count;
    else delete counts[key];
  }
}

/** Throws unless the ttl is a number of seconds > 0. */
export function checkTtl(ttlSeconds: number): void {
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new EngineArgumentError(`ttlSeconds must be a number > 0, got ${ttlSeconds}`);
  }
}

/** Who a stored session was, keeping only its known fields (what was written may be older code's). */
export function parseIdentity(text: string): SessionIdentity {
  const value = JSON.parse(text) as Record<string, unknown>;
  const who: SessionIdentity = {};
  if (typeof value.userId === 'string') who.userId = value.userId;
  if (typeof value.projectId === 'string') who.projectId = value.projectId;
  if (typeof value.subject === 'string') who.subject = value.subject;
  if (Array.isArray(value.projects) && value.projects.every((p) => typeof p === 'string')) who.projects = [...(value.projects as string[])];
  return who;
}

/** A task position as stored: `<offset>:<epoch>`. */
export function formatPosition(position: TaskPosition): string {
  return `${position.offset}:${position.epoch}`;
}

/** Reads `<offset>:<epoch>`; undefined when the text is not one. */
export function parsePosition(text: string): TaskPosition | undefined {
  const at = text.indexOf(':');
  const offset = Number(text.slice(0, at));
  if (at < 1 || !Number.isSafeInteger(offset) || offset < 0) return undefined;
  return { offset, epoch: text.slice(at + 1) };
}

/** A deep copy, so that neither engine's caller can change what was stored. */
export function copySession(session: ConnectionSession): ConnectionSession {
  const who: SessionIdentity = { ...session.who };
  if (session.who.projects) who.projects = [...session.who.projects];
  const tasks: Record<string, TaskPosition> = {};
  for (const [taskId, position] of Object.entries(session.tasks)) tasks[taskId] = { offset: position.offset, epoch: position.epoch };
  return { who, tasks };
}
