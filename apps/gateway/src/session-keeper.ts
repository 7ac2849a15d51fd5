/**
 * Keeps every live connection's session (who it is, each subscribed task with the newest position sent to
 * it) in the engine, so that a reconnect with `old_client_id`, on any node, restores it (issue 7 item 1).
 * Every connection is visited once per `refreshMs`, in slices every 100 ms (a pass over 10,000 sessions at
 * once stalled the event loop for about 250 ms, measured in the bench): a changed session is written, an
 * unchanged one has its ttl extended when a third of it has passed. An open, subscribe or unsubscribe
 * writes that connection's session within 50 ms (coalesced); a close writes the exact final session,
 * whose ttl then counts the resume window from the disconnect.
 *
 * After a `kill -9` the saved positions are at most one refresh old, so a restore may repeat up to about
 * `refreshMs` of frames (at least once, never a gap). A socket with unsent bytes never has a position
 * saved past what was saved for it before (`capToSaved`), neither by the refresh nor at its close: frames
 * still in its buffer (uWS's or its conflation queue) would be lost with the socket or the process, and a
 * restore from a position that counts them would skip them, a terminal status included. A task with no
 * position saved before is saved with none (offset 0, empty epoch): the restore sends its current state.
 */
import type { Logger } from 'pino';
import type { ConnectionSession, SessionStore, TaskPosition } from '@taskpulse/engine';
import type { DeliveryMetrics } from './delivery-metrics';
import type { GatewayMetrics } from './metrics';
import type { PendingWork } from './pending-work';

/** What the keeper needs of a connection. */
export interface SessionOwner {
  readonly clientId: string;
  /** The session as it stands now. */
  session(): ConnectionSession;
  /** Bytes not yet written to the socket. */
  bufferedAmount(): number;
  /** Bytes the socket still had unsent when it closed (read by `closed`). */
  unsentAtClose(): number;
}

export interface SessionKeeperOptions {
  sessions: SessionStore;
  /** The live connections, read on every refresh. */
  connections: ReadonlySet<SessionOwner>;
  ttlSeconds: number;
  refreshMs: number;
  metrics: GatewayMetrics;
  delivery: DeliveryMetrics;
  logger: Logger;
  pending: PendingWork;
}

/** The position of a task with none saved: a restore sends the current state. */
const NO_POSITION: TaskPosition = { offset: 0, epoch: '' };

/**
 * The session with each task's position no further than the one in `savedText` (the session last
 * written for the connection), or none for a task it did not have: for a socket with unsent bytes.
 */
export function capToSaved(session: ConnectionSession, savedText: string | undefined): ConnectionSession {
  const saved = savedText === undefined ? {} : (JSON.parse(savedText) as ConnectionSession).tasks;
  const tasks: Record<string, TaskPosition> = {};
  for (const [taskId, position] of Object.entries(session.tasks)) {
    const before = saved[taskId];
    // the saved position is older than the socket's, unless the task moved to another epoch since: then it is stale, and the restore says so
    tasks[taskId] = before === undefined ? NO_POSITION : before.epoch === position.epoch && before.offset > position.offset ? position : before;
  }
  return { ...session, tasks };
}

/** A bare connection (no identity, no tasks) has nothing worth restoring. */
function isEmpty(session: ConnectionSession): boolean {
  const { who } = session;
  return who.userId === undefined && who.projectId === undefined && who.subject === undefined && Object.keys(session.tasks).length === 0;
}

/** How often the keeper wakes to write a slice of the live sessions, in ms (at most refreshMs). */
const SLICE_MS = 100;

export class SessionKeeper {
  /** What was last written per connection, and when. */
  private readonly saved = new Map<string, { text: string; at: number }>();
  /** Connections whose subscriptions changed: written within 50 ms, ahead of their slice. */
  private readonly dirty = new Set<SessionOwner>();
  /** Where the slices are in the connection set: each connection is visited once per refreshMs, spread out. */
  private cursor: Iterator<SessionOwner> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private soonTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: SessionKeeperOptions) {}

  /** Starts the periodic refresh, a slice every SLICE_MS so that no single turn of the event loop visits every connection. */
  start(): void {
    this.timer ??= setInterval(() => this.writeSlice(), Math.min(SLICE_MS, this.options.refreshMs));
    this.timer.unref();
  }

  /** The connection opened or its subscriptions changed: write its session soon, coalesced with other changes. */
  changed(owner: SessionOwner): void {
    this.dirty.add(owner);
    if (this.soonTimer || !this.timer) return;
    this.soonTimer = setTimeout(() => {
      this.soonTimer = undefined;
      const owners = [...this.dirty];
      this.dirty.clear();
      this.write(owners);
    }, Math.min(50, this.options.refreshMs));
    this.soonTimer.unref();
  }

  /** The connection closed: write its exact final session now; the resume window counts from here. */
  closed(owner: SessionOwner): void {
    this.dirty.delete(owner);
    const previous = this.saved.get(owner.clientId);
    this.saved.delete(owner.clientId);
    let session = owner.session();
    if (owner.unsentAtClose() > 0) session = capToSaved(session, previous?.text);
    if (previous === undefined && isEmpty(session)) return;
    const { sessions, ttlSeconds, delivery } = this.options;
    delivery.sessionSaves.inc();
    this.track(sessions.saveSession(owner.clientId, session, ttlSeconds), 1);
  }

  /** Stops refreshing; sessions already written expire on their own. */
  stop(): void {
    clearInterval(this.timer);
    clearTimeout(this.soonTimer);
    this.timer = this.soonTimer = undefined;
    this.dirty.clear();
  }

  /** The next slice of the live connections: their share of one refreshMs. */
  private writeSlice(): void {
    const { connections, refreshMs } = this.options;
    if (connections.size === 0) return;
    let left = Math.ceil((connections.size * Math.min(SLICE_MS, refreshMs)) / refreshMs);
    const owners: SessionOwner[] = [];
    this.cursor ??= connections[Symbol.iterator]();
    while (left > 0) {
      const next = this.cursor.next();
      if (next.done) {
        // one pass is done; the next slice starts the next pass
        this.cursor = undefined;
        break;
      }
      owners.push(next.value);
      left -= 1;
    }
    this.write(owners);
  }

  /**
   * One batch: changed sessions written, unchanged ones touched when a third of their ttl has passed.
   * Batches go out in order on the engine's one command connection, so a later one never lands first.
   */
  private write(owners: SessionOwner[]): void {
    const { sessions, ttlSeconds, delivery } = this.options;
    const now = Date.now();
    const touchAfterMs = (ttlSeconds * 1000) / 3;
    const writes: Array<{ clientId: string; session: ConnectionSession }> = [];
    const touches: string[] = [];
    for (const owner of owners) {
      const previous = this.saved.get(owner.clientId);
      let session = owner.session();
      if (owner.bufferedAmount() > 0) session = capToSaved(session, previous?.text);
      const text = JSON.stringify(session);
      if (previous?.text === text) {
        if (now - previous.at >= touchAfterMs) {
          touches.push(owner.clientId);
          previous.at = now;
        }
        continue;
      }
      if (previous === undefined && isEmpty(session)) continue;
      writes.push({ clientId: owner.clientId, session });
      this.saved.set(owner.clientId, { text, at: now });
    }
    if (writes.length === 0 && touches.length === 0) return;
    delivery.sessionSaves.inc(writes.length);
    const work = Promise.all([
      writes.length > 0 ? sessions.saveSessions(writes, ttlSeconds) : undefined,
      touches.length > 0 ? sessions.touchSessions(touches, ttlSeconds) : undefined,
    ]).then(() => undefined);
    void this.track(work, writes.length + touches.length, () => {
      // a failed batch is written again whole when its connections come round again
      for (const { clientId } of writes) this.saved.delete(clientId);
    });
  }

  private track(work: Promise<void>, count: number, onFailure?: () => void): Promise<void> {
    const { metrics, logger, pending } = this.options;
    return pending.track(
      work.catch((error: unknown) => {
        metrics.engineFailures.inc({ operation: 'save_session' });
        logger.warn({ err: error, sessions: count }, 'saving connection sessions failed; the next refresh tries again');
        onFailure?.();
      }),
    );
  }
}
