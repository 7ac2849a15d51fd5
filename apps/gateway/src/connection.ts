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
import type { ConnectionSession, Engine, SessionIdentity, TaskPosition } from '@taskpulse/engine';
import type { BroadcastChannels } from './broadcast-channels';
import type { FanOut } from './fan-out';
import type { GatewayMetrics } from './metrics';
import { FrameRateLimiter, type RateLimit } from './rate-limit';
import type { SubscriberSocket } from './subscriber-socket';
import { TaskSubscriptions, type SubscriptionContext } from './subscriptions';

/** What uWebSockets.js keeps per socket: it copies the object's own fields, so the connection rides in one. */
export interface SocketData {
  connection: Connection;
}

/** Shared by every connection of one gateway. */
export interface ConnectionContext {
  engine: Engine;
  fanOut: FanOut;
  /** The gateway's user and project channel counts. */
  broadcasts: BroadcastChannels;
  metrics: GatewayMetrics;
  logger: Logger;
  /** Handed to each connection's task subscriptions. */
  subscriptions: SubscriptionContext;
  rateLimit: RateLimit;
  /** Counts task subscriptions restored from a resumed session. */
  restoredSubscriptions: { inc(by?: number): void };
  /** Told when the connection opens and closes (counts, the drain list). */
  onOpen(connection: Connection): void;
  onClose(connection: Connection): void;
}

/** Who connected, from the upgrade request's query. */
export interface ConnectionIdentity {
  clientId: string;
  userId?: string;
  projectId?: string;
}

/**
 * A connection from upgrade to close. Most connections sit idle for hours, so it holds only its ids and
 * socket; the rate limiter and task subscriptions are made on the first frame that needs them.
 */
export class Connection implements SubscriberSocket {
  readonly clientId: string;
  readonly userId: string | undefined;
  readonly projectId: string | undefined;
  private ws: WebSocket<SocketData> | undefined;
  private isClosed = false;
  private limiter: FrameRateLimiter | undefined;
  private taskSubscriptions: TaskSubscriptions | undefined;
  /** Who the session store keeps (identity.ts claims included when the identity carries them). */
  private readonly who: SessionIdentity;

  /** `restore`: the task subscriptions of the session this connection resumes (`old_client_id`), if any. */
  constructor(
    identity: ConnectionIdentity,
    private readonly ctx: ConnectionContext,
    private restore?: Record<string, TaskPosition>,
  ) {
    this.clientId = identity.clientId;
    this.userId = identity.userId;
    this.projectId = identity.projectId;
    this.who = sessionIdentity(identity);
  }

  /** The tasks at the moment the socket closed, for the final session save. */
  private closedTasks: Record<string, TaskPosition> | undefined;

  /** The session to keep: who, and each task subscription with the newest position sent. */
  session(): ConnectionSession {
    return { who: this.who, tasks: this.closedTasks ?? this.taskSubscriptions?.positions() ?? {} };
  }

  /** The connection's task subscriptions, made on first use. */
  get tasks(): TaskSubscriptions {
    return (this.taskSubscriptions ??= new TaskSubscriptions(this, this.ctx.subscriptions));
  }

  /** True once the socket closed. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** The socket is open: join the broadcast topics and greet the client. */
  opened(ws: WebSocket<SocketData>): void {
    this.ws = ws;
    this.ctx.onOpen(this);
    const { broadcasts, fanOut } = this.ctx;
    const prefix = this.ctx.engine.prefix;
    if (this.userId !== undefined) {
      const channel = userChannel(prefix, this.userId);
      ws.subscribe(channel);
      broadcasts.join(channel, fanOut.user);
    }
    if (this.projectId !== undefined) {
      const channel = projectChannel(prefix, this.projectId);
      ws.subscribe(channel);
      broadcasts.join(channel, fanOut.project);
    }
    const restore = this.restore;
    this.restore = undefined;
    const restoredTasks = restore ? Object.keys(restore) : undefined;
    ws.send(encodeConnectedFrame(this.clientId, this.userId, this.projectId, restoredTasks), false);
    if (!restore) return;
    // Queued before any client frame can arrive, so a client's own resubscribe of the same task gets the ack only.
    for (const [taskId, position] of Object.entries(restore)) this.tasks.restore(taskId, position);
    this.ctx.restoredSubscriptions.inc(restoredTasks!.length);
  }

  /** One client frame. The ArrayBuffer is only valid during this call, so it is decoded at once. */
  received(message: ArrayBuffer, isBinary: boolean): void {
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
        this.tasks.subscribe(msg);
        return;
      case 'unsubscribe':
        this.tasks.unsubscribe(msg);
        return;
    }
  }

  /** uWebSockets.js closed the socket (either side, or a timeout): release everything it held. */
  closedBySocket(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.ws = undefined;
    this.closedTasks = this.taskSubscriptions?.positions() ?? {};
    this.taskSubscriptions?.closeAll();
    const { broadcasts, fanOut } = this.ctx;
    const prefix = this.ctx.engine.prefix;
    if (this.userId !== undefined) broadcasts.leave(userChannel(prefix, this.userId), fanOut.user);
    if (this.projectId !== undefined) broadcasts.leave(projectChannel(prefix, this.projectId), fanOut.project);
    this.ctx.onClose(this);
  }

  // The SubscriberSocket methods below are no-ops once the socket closed (see subscriptions.ts).

  send(frame: string | Buffer): void {
    this.ws?.send(frame, false);
  }

  sendError(code: ErrorCode, message: string, extra: { field?: string; requestId?: string; taskId?: string } = {}): void {
    if (!this.ws) return;
    this.ctx.metrics.countError(code);
    this.ws.send(encodeErrorFrame(code, message, extra), false);
  }

  cork(fn: () => void): void {
    this.ws?.cork(fn);
  }

  subscribeTopic(topic: string): void {
    this.ws?.subscribe(topic);
  }

  unsubscribeTopic(topic: string): void {
    this.ws?.unsubscribe(topic);
  }

  /** Bytes queued for this socket and not yet written (0 once closed). */
  bufferedAmount(): number {
    return this.ws ? this.ws.getBufferedAmount() : 0;
  }

  /** Closes with a code and reason; the close handler runs synchronously inside. */
  end(code: number, reason: string): void {
    this.ws?.end(code, reason);
  }
}

/** The identity as the session store keeps it; `projects` and `subject` ride along once the identity has them. */
function sessionIdentity(identity: ConnectionIdentity): SessionIdentity {
  const { userId, projectId, projects, subject } = identity as ConnectionIdentity & { projects?: readonly string[]; subject?: string };
  const who: SessionIdentity = {};
  if (userId !== undefined) who.userId = userId;
  if (projectId !== undefined) who.projectId = projectId;
  if (projects !== undefined) who.projects = [...projects];
  if (subject !== undefined) who.subject = subject;
  return who;
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
