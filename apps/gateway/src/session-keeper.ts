/**
 * Keeps every live connection's session (who it is, each subscribed task with the newest position sent to
 * it) in the engine, so that a reconnect with `old_client_id`, on any node, restores it (issue 7 item 1).
 * A task on its topic is saved as "this node's position" (session-positions.ts), and once per `refreshMs`
 * the node saves all its topic positions under one key: a session is written only when its subscriptions
 * change (within 50 ms, coalesced), when its socket starts or stops having unsent bytes, and at close (the
 * exact final session, whose ttl then counts the resume window from the disconnect); an unchanged one has
 * its ttl extended when a third of it has passed. So an unchanged session costs a buffered-bytes read per
 * refresh, busy or not (JSON-comparing every session every pass cost ~17 ms of p99 at 20,000/s).
 *
 * After a `kill -9` the saved positions are at most one refresh old, so a restore may repeat up to about
 * `refreshMs` of frames (at least once, never a gap). A socket with unsent bytes never has a position
 * saved past what was saved for it before (`capToSaved`), neither by the refresh nor at its close: frames
 * still in its buffer (uWS's or its conflation queue) would be lost with the socket or the process, and a
 * restore from a position that counts them would skip them, a terminal status included. Such a socket is
 * found in the same turn as the node's positions are taken, and its session is written with its own
 * capped positions ahead of the node's (one command connection, in order), so the node's newer positions
 * never stand for it. A task with no position saved before is saved with none (offset 0, empty epoch):
 * the restore sends its current state.
 */
import type { Logger } from 'pino';
import type { ConnectionSession, SessionStore, TaskPosition } from '@taskpulse/engine';
import type { DeliveryMetrics } from './delivery-metrics';
import type { GatewayMetrics } from './metrics';
import type { PendingWork } from './pending-work';
import { markNodePosition, nodePositionsId, readMark } from './session-positions';

/** What the keeper needs of a connection. */
export interface SessionOwner {
  readonly clientId: string;
  /** The session as it stands now; `onTopic` rewrites the positions of tasks on their topic. */
  session(onTopic?: (position: TaskPosition) => TaskPosition): ConnectionSession;
  /** Bytes not yet written to the socket. */
  bufferedAmount(): number;
  /** Bytes the socket still had unsent when it closed (read by `closed`). */
  unsentAtClose(): number;
  /** The keeper's record, kept on the connection (no object or map entry per connection): see SavedSession. */
  savedAt: number;
  savedUnsent: boolean;
  savedPlain: Record<string, TaskPosition> | undefined;
}

/** What was last written for a connection. */
export interface SavedSession {
  /** When (ms on the keeper's clock, from 1); 0: never. */
  savedAt: number;
  /** Whether the socket had unsent bytes then: its positions were its own, capped, with no marks. */
  savedUnsent: boolean;
  /** The positions written unmarked (all of them when `savedUnsent`), or undefined when every one was marked. */
  savedPlain: Record<string, TaskPosition> | undefined;
}

/** Where the topic positions come from: the node's relay. */
export interface TopicPositions {
  /** Changes whenever a position moves. */
  readonly version: number;
  positionsByTask(): Record<string, TaskPosition>;
}

export interface SessionKeeperOptions {
  sessions: SessionStore;
  /** The live connections, read on every refresh. */
  connections: ReadonlySet<SessionOwner>;
  /** This node's id: its topic positions are saved under it. */
  nodeId: string;
  topics: TopicPositions;
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
 * The session with each task's position no further than the one saved for it before (`saved`, or none for
 * a task it did not have): for a socket with unsent bytes.
 */
export function capToSaved(session: ConnectionSession, saved: Record<string, TaskPosition | undefined>): ConnectionSession {
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

/** Forgets what was written for a connection. */
function forget(owner: SessionOwner): void {
  owner.savedAt = 0;
  owner.savedUnsent = false;
  owner.savedPlain = undefined;
}

/** Milliseconds since the process started, from 1: a small integer (no heap number per connection) for about 12 days. */
function clock(): number {
  return Math.floor(performance.now()) + 1;
}

/** The positions of `tasks` that are not marked, or undefined when all are. */
function unmarked(tasks: Record<string, TaskPosition>): Record<string, TaskPosition> | undefined {
  let plain: Record<string, TaskPosition> | undefined;
  for (const taskId in tasks) {
    const position = tasks[taskId]!;
    if (!readMark(position)) (plain ??= {})[taskId] = position;
  }
  return plain;
}

interface Write {
  owner: SessionOwner;
  session: ConnectionSession;
}

export class SessionKeeper {
  /** Connections whose subscriptions changed: written within 50 ms, ahead of the refresh. */
  private readonly dirty = new Set<SessionOwner>();
  private timer: NodeJS.Timeout | undefined;
  private soonTimer: NodeJS.Timeout | undefined;
  /** The topic positions this node last saved (what a marked position stood for), their relay version, and when. */
  private nodeSaved: Record<string, TaskPosition> = {};
  private nodeVersion = -1;
  private nodeSavedAt = 0;
  private readonly markTopic: (position: TaskPosition) => TaskPosition;

  constructor(private readonly options: SessionKeeperOptions) {
    const { nodeId } = options;
    this.markTopic = (position) => markNodePosition(position, nodeId);
  }

  /** Starts the periodic refresh. */
  start(): void {
    this.timer ??= setInterval(() => this.refresh(), this.options.refreshMs);
    this.timer.unref();
  }

  /** The connection opened or its subscriptions changed: write its session soon, coalesced with other changes. */
  changed(owner: SessionOwner): void {
    this.dirty.add(owner);
    if (this.soonTimer || !this.timer) return;
    this.soonTimer = setTimeout(() => {
      this.soonTimer = undefined;
      const now = clock();
      const writes: Write[] = [];
      for (const owner of this.dirty) {
        const session = this.current(owner, owner.bufferedAmount() > 0, now);
        if (session) writes.push({ owner, session });
      }
      this.dirty.clear();
      this.save(writes, [], undefined);
    }, Math.min(50, this.options.refreshMs));
    this.soonTimer.unref();
  }

  /** The connection closed: write its exact final session now; the resume window counts from here. */
  closed(owner: SessionOwner): void {
    this.dirty.delete(owner);
    const previous: SavedSession = { savedAt: owner.savedAt, savedUnsent: owner.savedUnsent, savedPlain: owner.savedPlain };
    forget(owner);
    let session = owner.session();
    if (owner.unsentAtClose() > 0) session = this.capped(session, previous);
    if (previous.savedAt === 0 && isEmpty(session)) return;
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

  /**
   * The session to write for `owner`, or undefined when there is nothing worth writing; records it as
   * written. With unsent bytes, its own positions capped to what was saved before; else with marks.
   */
  private current(owner: SessionOwner, unsent: boolean, now: number): ConnectionSession | undefined {
    const session = unsent ? this.capped(owner.session(), owner) : owner.session(this.markTopic);
    if (owner.savedAt === 0 && isEmpty(session)) return undefined;
    owner.savedAt = now;
    owner.savedUnsent = unsent;
    owner.savedPlain = unsent ? session.tasks : unmarked(session.tasks);
    return session;
  }

  /**
   * Capped to what was saved before. A marked position stood for the node's positions as last saved: every
   * refresh since found the socket with no unsent bytes at the moment it took them (else its session was
   * rewritten unmarked ahead of them), so the socket had been sent that much.
   */
  private capped(session: ConnectionSession, previous: SavedSession): ConnectionSession {
    if (previous.savedAt === 0) return capToSaved(session, {});
    const saved: Record<string, TaskPosition | undefined> = {};
    for (const taskId of Object.keys(session.tasks)) {
      saved[taskId] = previous.savedPlain?.[taskId] ?? (previous.savedUnsent ? undefined : this.nodeSaved[taskId]);
    }
    return capToSaved(session, saved);
  }

  /**
   * Once per refreshMs, in one turn: take the node's topic positions; write the sessions of sockets that
   * started having unsent bytes (capped) or stopped (marked again) ahead of them; extend the ttl of the
   * others when a third of it has passed; then save the positions if they moved (or a third of their ttl passed).
   */
  private refresh(): void {
    const { connections, topics, ttlSeconds } = this.options;
    const now = clock();
    const touchAfterMs = (ttlSeconds * 1000) / 3;
    const version = topics.version;
    const nodeDue = version !== this.nodeVersion || now - this.nodeSavedAt >= touchAfterMs;
    const positions = nodeDue ? topics.positionsByTask() : undefined;
    const writes: Write[] = [];
    const touches: string[] = [];
    for (const owner of connections) {
      if (owner.savedAt === 0) continue;
      const unsent = owner.bufferedAmount() > 0;
      // Even when a change is due to be written soon: the node's positions below must not stand for it meanwhile.
      if (unsent !== owner.savedUnsent) {
        const session = this.current(owner, unsent, now);
        if (session) writes.push({ owner, session });
      } else if (now - owner.savedAt >= touchAfterMs && !this.dirty.has(owner)) {
        touches.push(owner.clientId);
        owner.savedAt = now;
      }
    }
    let node: { clientId: string; session: ConnectionSession } | undefined;
    if (positions) {
      node = { clientId: nodePositionsId(this.options.nodeId), session: { who: {}, tasks: positions } };
      this.nodeSaved = positions;
      this.nodeVersion = version;
      this.nodeSavedAt = now;
    }
    this.save(writes, touches, node);
  }

  /**
   * One batch, in order on the engine's one command connection: sessions, ttl extensions, then the
   * node's positions (so a socket with unsent bytes has its capped session in place before they land).
   */
  private save(
    writes: Write[],
    touches: string[],
    node: { clientId: string; session: ConnectionSession } | undefined,
  ): void {
    if (writes.length === 0 && touches.length === 0 && !node) return;
    const { sessions, ttlSeconds, delivery } = this.options;
    delivery.sessionSaves.inc(writes.length);
    const work = Promise.all([
      writes.length > 0 ? sessions.saveSessions(writes.map(({ owner, session }) => ({ clientId: owner.clientId, session })), ttlSeconds) : undefined,
      touches.length > 0 ? sessions.touchSessions(touches, ttlSeconds) : undefined,
      node ? sessions.saveSessions([node], ttlSeconds) : undefined,
    ]).then(() => undefined);
    void this.track(work, writes.length + touches.length, () => {
      // a failed batch is written again: its live connections as changed, the node's positions on the next refresh
      for (const { owner } of writes) if (this.options.connections.has(owner)) this.changed(owner);
      if (node) this.nodeVersion = -1;
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
