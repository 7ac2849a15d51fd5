/**
 * One WebSocket connection: its identity, its user and project broadcast topics, its rate limit, and
 * the handling of client frames. Every send goes through here and is a no-op once the socket closed,
 * because uWebSockets.js throws on any use of a closed socket.
 */
import type { WebSocket } from 'uWebSockets.js';
import type { Logger } from 'pino';
import {
  CLOSE_CODES,
  encodeAckFrame,
  encodeConnectedFrame,
  encodeErrorFrame,
  isValidId,
  parseClientMessage,
  projectChannel,
  ProtocolError,
  userChannel,
  type ErrorCode,
} from '@taskpulse/protocol';
import type { ConnectionSession, EngineStatus, SessionIdentity, TaskPosition } from '@taskpulse/engine';
import { KeySourceError, TokenError } from '@taskpulse/auth';
import type { BroadcastChannelCounts } from './broadcast-channel-counts';
import type { GatewayAuth } from './gateway-auth';
import type { TaskViewer } from './task-authorization';
import { TokenExpiry } from './token-expiry';
import { PendingRestore } from './pending-restore';
import type { DeadPeers, Peer } from './dead-peers';
import type { FanOut } from './fan-out';
import type { GatewayMetrics } from './metrics';
import { FrameRateLimiter, type RateLimit } from './rate-limit';
import { SlowPath, type SlowSockets } from './slow-sockets';
import type { TaskSocket } from './task-socket';
import { TaskSubscriptions, type TaskSubscriptionsContext } from './task-subscriptions';

const NONE: readonly string[] = Object.freeze([]);

/** What uWebSockets.js keeps per socket: it copies the object's own fields, so the connection rides in one. */
export interface SocketData {
  connection: Connection;
}

/** Shared by every connection of one gateway. */
export interface ConnectionContext {
  engine: Pick<EngineStatus, 'prefix'>;
  fanOut: FanOut;
  /** The gateway's user and project channel counts. */
  broadcasts: BroadcastChannelCounts;
  metrics: GatewayMetrics;
  logger: Logger;
  /** Handed to each connection's task subscriptions. */
  subscriptions: TaskSubscriptionsContext;
  rateLimit: RateLimit;
  /** The auth mode and token verifier (refresh frames in jwt mode). */
  auth: GatewayAuth;
  /** Counts task subscriptions restored from a resumed session. */
  restoredSubscriptions: { inc(by?: number): void };
  /** Client frames over `softBytes` get a frame_too_large error; over `hardCapBytes` the connection closes with 1009. */
  clientFrames: { softBytes: number; hardCapBytes: number };
  /** The gateway's slow sockets, which a connection joins when its unsent bytes pass the soft limit. */
  slowSockets: SlowSockets;
  /** The liveness sweep, whose clock a connection reads when it hears from its peer. */
  deadPeers: DeadPeers;
  /** Told when the connection opens and closes (counts, the drain list). */
  onOpen(connection: Connection): void;
  onClose(connection: Connection): void;
}

/** Who connected: from the upgrade request's query (insecure mode) or its verified token (jwt mode). */
export interface ConnectionIdentity {
  clientId: string;
  userId?: string;
  projectId?: string;
  /** jwt mode: every project of the token (`project_id` first, then `projects`); the connection joins each. */
  projects?: readonly string[];
  /** jwt mode: the token's `sub`; a refresh must carry the same one. */
  subject?: string;
  /** jwt mode: task ids the token's `tasks` claim grants. */
  grantedTasks?: readonly string[];
  /** jwt mode: when the token expires (ms since the epoch); the connection is closed with 4502 then. */
  expiresAt?: number;
}

/**
 * A connection from upgrade to close. Most connections sit idle for hours, so it holds only its ids and
 * socket; the rate limiter and task subscriptions are made on the first frame that needs them.
 */
export class Connection implements TaskSocket, Peer {
  readonly clientId: string;
  /** Liveness, in sweeps of dead-peers.ts: when the peer was last heard from, and an unanswered ping (-1: none). */
  heardTick = 0;
  pingTick = -1;
  readonly sweepSlot: number;
  readonly userId: string | undefined;
  readonly projectId: string | undefined;
  /** Every project the connection belongs to (projectId included), each joined as a broadcast channel. */
  readonly projects: readonly string[];
  readonly subject: string | undefined;
  /** Task ids the token grants (jwt mode); a refresh replaces them. */
  private grantedTasks: readonly string[];
  private expiry: TokenExpiry | undefined;
  private expiresAt: number | undefined;
  private ws: WebSocket<SocketData> | undefined;
  private isClosed = false;
  private limiter: FrameRateLimiter | undefined;
  private taskSubscriptions: TaskSubscriptions | undefined;
  /** Present while the socket is slow: its frames go through here, off the topics (slow-sockets.ts). */
  private slow: SlowPath | undefined;
  /**
   * Unsent bytes as last read (each send, drain, backpressure check, session refresh, and a close we
   * start): uWebSockets.js refuses any read of the socket in its close handler ("Invalid access of closed
   * uWS.WebSocket", tried), so the close uses this. Topic frames buffered since the last read are not seen.
   */
  private unsentSeen = 0;
  private unsentClosed = 0;

  /**
   * `restore`: the task subscriptions of the session this connection resumes (`old_client_id`), if any.
   */
  constructor(
    identity: ConnectionIdentity,
    private readonly ctx: ConnectionContext,
    private restore?: Record<string, TaskPosition>,
  ) {
    this.clientId = identity.clientId;
    this.userId = identity.userId;
    this.projectId = identity.projectId;
    // Idle connections are most of them: share one empty array rather than allocate per connection.
    const first = identity.projectId === undefined ? NONE : [identity.projectId];
    this.projects = identity.projects ? [...new Set([...first, ...identity.projects])] : first;
    this.subject = identity.subject;
    this.grantedTasks = identity.grantedTasks ?? NONE;
    this.expiresAt = identity.expiresAt;
    this.sweepSlot = ctx.deadPeers.nextSlot();
  }

  /** What per-task authorization checks (task-subscriptions.ts): made per subscribe, in jwt mode only. */
  get viewer(): TaskViewer {
    const viewer: TaskViewer = { projects: this.projects, tasks: this.grantedTasks };
    if (this.userId !== undefined) viewer.userId = this.userId;
    return viewer;
  }

  /** Who this connection is, as kept in its session for a reconnect with `old_client_id`. */
  who(): SessionIdentity {
    const who: SessionIdentity = {};
    if (this.userId !== undefined) who.userId = this.userId;
    if (this.projectId !== undefined) who.projectId = this.projectId;
    if (this.subject !== undefined) who.subject = this.subject;
    if (this.projects.length > 1) who.projects = [...this.projects];
    return who;
  }

  /** The tasks at the moment the socket closed, for the final session save. */
  private closedTasks: Record<string, TaskPosition> | undefined;
  /** A resumed session's tasks not restored yet: the client's own subscribes may claim them (pending-restore.ts). */
  private pendingRestore: PendingRestore | undefined;

  /** What the session keeper last wrote for this connection (session-keeper.ts, SavedSession). */
  savedAt = 0;
  savedUnsent = false;
  savedPlain: Record<string, TaskPosition> | undefined = undefined;

  /**
   * The session to keep: who, and each task subscription with the newest position sent; `onTopic` rewrites
   * the positions of tasks on their topic (the keeper marks them as the node's).
   */
  session(onTopic?: (position: TaskPosition) => TaskPosition): ConnectionSession {
    return { who: this.who(), tasks: this.closedTasks ?? this.currentTasks(onTopic) };
  }

  /** Each task subscription with its position, the ones still pending restore included. */
  private currentTasks(onTopic?: (position: TaskPosition) => TaskPosition): Record<string, TaskPosition> {
    const held = this.taskSubscriptions?.positions(onTopic) ?? {};
    return this.pendingRestore ? { ...this.pendingRestore.positions(), ...held } : held;
  }

  /** The connection's task subscriptions, made on first use. */
  get tasks(): TaskSubscriptions {
    return (this.taskSubscriptions ??= new TaskSubscriptions(this, this.ctx.subscriptions));
  }

  /** True while the socket is slow and its progress frames are conflated. */
  get conflating(): boolean {
    return this.slow !== undefined;
  }

  /** True once the socket closed. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** The socket is open: join the broadcast topics and greet the client. */
  opened(ws: WebSocket<SocketData>): void {
    this.ws = ws;
    this.heardTick = this.ctx.deadPeers.tick;
    this.ctx.onOpen(this);
    const { broadcasts, fanOut } = this.ctx;
    const prefix = this.ctx.engine.prefix;
    if (this.userId !== undefined) {
      const channel = userChannel(prefix, this.userId);
      ws.subscribe(channel);
      broadcasts.join(channel, fanOut.user);
    }
    for (const projectId of this.projects) {
      const channel = projectChannel(prefix, projectId);
      ws.subscribe(channel);
      broadcasts.join(channel, fanOut.project);
    }
    if (this.expiresAt !== undefined) {
      this.expiry = new TokenExpiry(() => {
        this.ctx.metrics.tokenExpiredCloses.inc();
        this.cork(() => this.end(CLOSE_CODES.token_expired, 'token_expired'));
      });
      this.expiry.set(this.expiresAt);
    }
    this.greet();
  }

  /** Sends the connected frame and restores the resumed session's subscriptions. */
  private greet(): void {
    const ws = this.ws;
    if (!ws) return;
    const restore = this.restore;
    this.restore = undefined;
    const restoredTasks = restore ? Object.keys(restore) : undefined;
    ws.send(encodeConnectedFrame(this.clientId, this.userId, this.projectId, restoredTasks), false);
    if (!restore || restoredTasks!.length === 0) return;
    this.ctx.restoredSubscriptions.inc(restoredTasks!.length);
    this.pendingRestore = new PendingRestore(new Map(Object.entries(restore)), (rest) => {
      this.pendingRestore = undefined;
      for (const [taskId, position] of rest) this.tasks.restore(taskId, position);
    });
  }

  /** One client frame. The ArrayBuffer is only valid during this call, so it is decoded at once. */
  received(message: ArrayBuffer, isBinary: boolean): void {
    this.heardTick = this.ctx.deadPeers.tick;
    const { softBytes, hardCapBytes } = this.ctx.clientFrames;
    if (message.byteLength > hardCapBytes) {
      this.ctx.metrics.tooBigCloses.inc();
      // end() queues the close frame after every frame already sent, so the client reads those first.
      this.end(CLOSE_CODES.message_too_big, `frame of ${message.byteLength} bytes is over the hard cap of ${hardCapBytes}`);
      return;
    }
    const verdict = (this.limiter ??= new FrameRateLimiter(this.ctx.rateLimit)).take();
    if (verdict === 'close') {
      this.ctx.metrics.policyCloses.inc();
      this.ctx.logger.warn({ clientId: this.clientId }, 'closing a connection that kept sending over its rate limit');
      this.end(CLOSE_CODES.policy_violation, 'rate limit exceeded repeatedly');
      return;
    }
    if (verdict === 'refuse') {
      const { perSecond, burst } = this.ctx.rateLimit;
      this.sendError('rate_limited', `at most ${perSecond} frames per second (bursts of ${burst}); this frame was ignored`);
      return;
    }
    if (isBinary) {
      this.sendError('bad_request', 'frame must be a text frame holding a JSON object, got a binary frame', { field: 'frame' });
      return;
    }
    const text = Buffer.from(message).toString('utf8');
    if (message.byteLength > softBytes) {
      const detail = `frames must be at most ${softBytes} bytes, got ${message.byteLength}; this frame was ignored`;
      this.sendError('frame_too_large', detail, { field: 'frame', ...echoIds(text) });
      return;
    }
    let msg;
    try {
      msg = parseClientMessage(text);
    } catch (error) {
      if (error instanceof ProtocolError) {
        this.sendError(error.code, error.message, { field: error.field, ...echoIds(text) });
      } else {
        this.ctx.logger.error({ err: error, clientId: this.clientId }, 'parsing a client frame failed unexpectedly');
        this.sendError('internal', 'the frame could not be handled');
      }
      return;
    }
    switch (msg.action) {
      case 'ping':
        this.send(encodeAckFrame('ping', { requestId: msg.request_id }));
        return;
      case 'subscribe':
        this.tasks.subscribe(this.pendingRestore ? this.pendingRestore.claim(msg) : msg);
        return;
      case 'unsubscribe':
        this.pendingRestore?.drop(msg.task_id);
        this.tasks.unsubscribe(msg);
        return;
      case 'refresh':
        void this.refresh(msg.token, msg.request_id);
        return;
    }
  }

  /** A pong (or any sign of life) from the peer. */
  heard(): void {
    this.heardTick = this.ctx.deadPeers.tick;
  }

  /** Sends a WebSocket ping (dead-peers.ts). */
  ping(): void {
    this.ws?.ping();
  }

  /** The unsent bytes passed the soft limit, or the socket is already slow: conflate, and write what may go. */
  conflate(): void {
    if (!this.ws) return;
    this.slow ??= new SlowPath(this.ws, this.ctx.slowSockets, () => {
      this.slow = undefined;
    });
    this.slow.pump();
  }

  /** uWebSockets.js wrote some of the socket's buffer: a slow socket's waiting frames may follow. */
  drained(): void {
    this.slow?.pump();
    this.bufferedAmount();
  }

  /** uWebSockets.js closed the socket (either side, or a timeout): release everything it held. */
  closedBySocket(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.ws = undefined;
    this.expiry?.stop();
    this.closedTasks = this.currentTasks();
    this.pendingRestore?.cancel();
    this.pendingRestore = undefined;
    this.unsentClosed = this.unsentSeen + (this.slow?.queuedBytes ?? 0);
    this.slow?.stop();
    this.slow = undefined;
    this.taskSubscriptions?.closeAll();
    const { broadcasts, fanOut } = this.ctx;
    const prefix = this.ctx.engine.prefix;
    if (this.userId !== undefined) broadcasts.leave(userChannel(prefix, this.userId), fanOut.user);
    for (const projectId of this.projects) broadcasts.leave(projectChannel(prefix, projectId), fanOut.project);
    this.ctx.onClose(this);
  }

  /**
   * A refresh frame (jwt mode): a valid token for the same `sub` moves the expiry and replaces the granted
   * tasks (projects stay as connected: channels are joined at open). Answered with an ack, or an error
   * frame `unauthorized`, after which the connection stays until its current token expires. Never rejects.
   */
  private async refresh(token: string, requestId: string | undefined): Promise<void> {
    const extra = requestId === undefined ? { field: 'token' } : { field: 'token', requestId };
    if (!this.ctx.auth.jwt) {
      this.sendError('bad_request', 'refresh is only used with AUTH_MODE=jwt; this gateway takes no tokens', extra);
      return;
    }
    try {
      const verified = await this.ctx.auth.verify(token);
      if (verified.subject !== this.subject) {
        this.sendError('unauthorized', 'the refresh token is for another subject (sub); this connection keeps its current token', extra);
        return;
      }
      if (this.isClosed) return;
      this.grantedTasks = verified.tasks;
      this.expiresAt = verified.expiresAt;
      if (verified.expiresAt === undefined) this.expiry?.stop();
      else this.expiry?.set(verified.expiresAt);
      this.send(encodeAckFrame('refresh', { requestId }));
    } catch (error) {
      if (error instanceof TokenError) {
        this.sendError('unauthorized', `the refresh token was refused (${error.reason}): ${error.message}`, extra);
      } else {
        if (!(error instanceof KeySourceError)) this.ctx.logger.error({ err: error, clientId: this.clientId }, 'a refresh failed unexpectedly');
        else this.ctx.logger.warn({ err: error, clientId: this.clientId }, 'a refresh could not read the token keys');
        this.sendError('unavailable', 'the token could not be checked; try the refresh again', extra);
      }
    }
  }

  // The TaskSocket methods below are no-ops once the socket closed (see task-subscriptions.ts).

  send(frame: string | Buffer): void {
    if (this.slow) this.slow.push(frame);
    else this.ws?.send(frame, false);
    this.bufferedAmount();
  }

  sendError(code: ErrorCode, message: string, extra: { field?: string; requestId?: string; taskId?: string } = {}): void {
    if (!this.ws) return;
    this.ctx.metrics.countError(code);
    this.send(encodeErrorFrame(code, message, extra));
  }

  cork(fn: () => void): void {
    this.ws?.cork(fn);
  }

  /** Runs `fn` corked on this socket and returns true, or returns false when the socket is closed (`fn` did not run). */
  corkIfOpen(fn: () => void): boolean {
    if (!this.ws) return false;
    this.ws.cork(fn);
    return true;
  }

  subscribeTopic(topic: string): void {
    if (this.slow) this.slow.addTopic(topic);
    else this.ws?.subscribe(topic);
  }

  unsubscribeTopic(topic: string): void {
    if (this.slow) this.slow.removeTopic(topic);
    else this.ws?.unsubscribe(topic);
  }

  /** Bytes queued for this socket and not yet written, waiting conflated frames included (0 once closed). */
  bufferedAmount(): number {
    if (!this.ws) return 0;
    return (this.unsentSeen = this.ws.getBufferedAmount() + (this.slow?.queuedBytes ?? 0));
  }

  /** The unsent bytes the socket had when it closed (as last read, see `unsentSeen`): frames the client may never have got. */
  unsentAtClose(): number {
    return this.unsentClosed;
  }

  /**
   * Closes with a code and reason; the close handler runs synchronously inside. Frames waiting on a slow
   * socket go out before the close frame, except when the close is about the socket not reading.
   */
  end(code: number, reason: string): void {
    this.bufferedAmount(); // the close handler runs inside ws.end and can no longer read the socket
    if (this.slow) {
      if (code === CLOSE_CODES.slow_consumer || code === CLOSE_CODES.heartbeat_lost) this.slow.stop();
      else this.slow.flushAndStop();
      this.slow = undefined;
    }
    this.ws?.end(code, reason);
  }
}

/** On the error path only: the request_id and task_id of a rejected frame, when they can be read, to echo back. */
function echoIds(text: string): { requestId?: string; taskId?: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return {}; // not JSON: the error frame already says so, there is simply nothing to echo
  }
  if (typeof value !== 'object' || value === null) return {};
  const { request_id: requestId, task_id: taskId } = value as Record<string, unknown>;
  const ids: { requestId?: string; taskId?: string } = {};
  if (typeof requestId === 'string' && requestId.length <= 64) ids.requestId = requestId;
  if (isValidId(taskId)) ids.taskId = taskId;
  return ids;
}
