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
import type { ChannelListener, Engine } from '@taskpulse/engine';
import type { FanOut } from './fan-out';
import type { GatewayMetrics } from './metrics';
import type { PendingWork } from './pending-work';
import { FrameRateLimiter, type RateLimit } from './rate-limit';
import { TaskSubscriptions, type SubscriberSocket, type SubscriptionContext } from './subscriptions';

/** What uWebSockets.js keeps per socket: it copies the object's own fields, so the connection rides in one. */
export interface SocketData {
  connection: Connection;
}

/** Shared by every connection of one gateway. */
export interface ConnectionContext {
  engine: Engine;
  fanOut: FanOut;
  metrics: GatewayMetrics;
  logger: Logger;
  pending: PendingWork;
  /** Handed to each connection's task subscriptions. */
  subscriptions: SubscriptionContext;
  rateLimit: RateLimit;
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

interface BroadcastRegistration {
  channel: string;
  listener: ChannelListener;
  /** Resolves true once the engine registration exists, false when it failed (nothing to undo then). */
  registered: Promise<boolean>;
}

/** A connection from upgrade to close. */
export class Connection implements SubscriberSocket {
  readonly clientId: string;
  readonly userId: string | undefined;
  readonly projectId: string | undefined;
  readonly tasks: TaskSubscriptions;
  private ws: WebSocket<SocketData> | undefined;
  private isClosed = false;
  private readonly limiter: FrameRateLimiter;
  private readonly broadcasts: BroadcastRegistration[] = [];

  constructor(
    identity: ConnectionIdentity,
    private readonly ctx: ConnectionContext,
  ) {
    this.clientId = identity.clientId;
    this.userId = identity.userId;
    this.projectId = identity.projectId;
    this.limiter = new FrameRateLimiter(ctx.rateLimit);
    this.tasks = new TaskSubscriptions(this, ctx.subscriptions);
  }

  /** True once the socket closed. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** The socket is open: join the broadcast topics and greet the client. */
  opened(ws: WebSocket<SocketData>): void {
    this.ws = ws;
    this.ctx.onOpen(this);
    const prefix = this.ctx.engine.prefix;
    if (this.userId !== undefined) this.joinBroadcast(userChannel(prefix, this.userId), this.ctx.fanOut.user);
    if (this.projectId !== undefined) this.joinBroadcast(projectChannel(prefix, this.projectId), this.ctx.fanOut.project);
    ws.send(encodeConnectedFrame(this.clientId, this.userId, this.projectId), false);
  }

  /** One client frame. The ArrayBuffer is only valid during this call, so it is decoded at once. */
  received(message: ArrayBuffer, isBinary: boolean): void {
    const verdict = this.limiter.take();
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
    this.tasks.closeAll();
    for (const { channel, listener, registered } of this.broadcasts) {
      const work = registered.then((ok) => (ok ? this.ctx.engine.unsubscribe(channel, listener) : undefined));
      void this.ctx.pending.track(work.catch((error: unknown) => this.engineFailed('unsubscribe', error, channel)));
    }
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

  private joinBroadcast(channel: string, listener: ChannelListener): void {
    this.ws!.subscribe(channel);
    const registered = this.ctx.engine.subscribe(channel, listener).then(
      () => true,
      (error: unknown) => {
        this.engineFailed('subscribe', error, channel);
        return false;
      },
    );
    this.broadcasts.push({ channel, listener, registered });
    void this.ctx.pending.track(registered);
  }

  private engineFailed(operation: 'subscribe' | 'unsubscribe', error: unknown, channel: string): void {
    this.ctx.metrics.engineFailures.inc({ operation });
    this.ctx.logger.warn({ err: error, channel, clientId: this.clientId }, `engine ${operation} for a broadcast channel failed`);
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
