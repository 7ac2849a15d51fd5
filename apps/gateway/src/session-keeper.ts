/**
 * Keeps every live connection's session (who it is, each subscribed task with the newest position sent to
 * it) in the engine, so that a reconnect with `old_client_id`, on any node, restores it (issue 7 item 1).
 * Every `refreshMs` the changed sessions are written in one batch and the unchanged ones have their ttl
 * extended in another; a subscribe or unsubscribe brings the next write forward (coalesced); a close
 * writes the exact final session, whose ttl then counts the resume window from the disconnect.
 *
 * After a `kill -9` the saved positions are at most one refresh old, so a restore may repeat up to about
 * `refreshMs` of frames (at least once, never a gap). A socket with unsent bytes never has a position
 * saved past what was saved for it before (`capToSaved`), neither by the refresh nor at its close: frames
 * still in its buffer (uWS's or its conflation queue) would be lost with the socket or the process, and a
 * restore from a position that counts them would skip them, a terminal status included. A task with no
 * position saved before is saved with none (offset 0, empty epoch): the restore sends its current state.
 */
import type { Logger } from 'pino';
import type { ConnectionSession, Engine, TaskPosition } from '@taskpulse/engine';
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
  engine: Engine;
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

export class SessionKeeper {
  /** What was last written per connection, and when. */
  private readonly saved = new Map<string, { text: string; at: number }>();
  private timer: NodeJS.Timeout | undefined;
  private soonTimer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private again = false;

  constructor(private readonly options: SessionKeeperOptions) {}

  /** Starts the periodic refresh. */
  start(): void {
    this.timer ??= setInterval(() => this.refresh(), this.options.refreshMs);
    this.timer.unref();
  }

  /** A session changed (subscribe, unsubscribe, open): write it soon, together with any other change. */
  soon(): void {
    if (this.soonTimer || !this.timer) return;
    this.soonTimer = setTimeout(() => {
      this.soonTimer = undefined;
      this.refresh();
    }, Math.min(50, this.options.refreshMs));
    this.soonTimer.unref();
  }

  /** The connection closed: write its exact final session now; the resume window counts from here. */
  closed(owner: SessionOwner): void {
    const previous = this.saved.get(owner.clientId);
    this.saved.delete(owner.clientId);
    let session = owner.session();
    if (owner.unsentAtClose() > 0) session = capToSaved(session, previous?.text);
    if (previous === undefined && isEmpty(session)) return;
    const { engine, ttlSeconds, delivery } = this.options;
    delivery.sessionSaves.inc();
    this.track(engine.saveSession(owner.clientId, session, ttlSeconds), 1);
  }

  /** Stops refreshing; sessions already written expire on their own. */
  stop(): void {
    clearInterval(this.timer);
    clearTimeout(this.soonTimer);
    this.timer = this.soonTimer = undefined;
  }

  /** One batch: changed sessions written, unchanged ones touched when a third of their ttl has passed. */
  private refresh(): void {
    if (this.inFlight) {
      this.again = true; // the batch on its way is older than this change: write once more after it
      return;
    }
    const { connections, engine, ttlSeconds, delivery } = this.options;
    const now = Date.now();
    const touchAfterMs = (ttlSeconds * 1000) / 3;
    const writes: Array<{ clientId: string; session: ConnectionSession }> = [];
    const touches: string[] = [];
    for (const owner of connections) {
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
      writes.length > 0 ? engine.saveSessions(writes, ttlSeconds) : undefined,
      touches.length > 0 ? engine.touchSessions(touches, ttlSeconds) : undefined,
    ]).then(() => undefined);
    this.inFlight = this.track(work, writes.length + touches.length, () => {
      // a failed batch is written again whole on the next refresh
      for (const { clientId } of writes) this.saved.delete(clientId);
    }).finally(() => {
      this.inFlight = undefined;
      if (this.again) {
        this.again = false;
        this.soon();
      }
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
