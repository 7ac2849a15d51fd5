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
import type { Engine } from '@taskpulse/engine';
import type { BroadcastChannels } from './broadcast-channels';
import type { DeadPeers, Peer } from './dead-peers';
import type { FanOut } from './fan-out';
import type { GatewayMetrics } from './metrics';
import { FrameRateLimiter, type RateLimit } from './rate-limit';
import { SlowPath, type SlowSockets } from './slow-sockets';
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
export class Connection implements SubscriberSocket, Peer {
  readonly clientId: string;
  /** Liveness, in sweeps of dead-peers.ts: when the peer was last heard from, and an unanswered ping (-1: none). */
  heardTick = 0;
  pingTick = -1;
  readonly userId: string | undefined;
  readonly projectId: string | undefined;
  private ws: WebSocket<SocketData> | undefined;
  private isClosed = false;
  private limiter: FrameRateLimiter | undefined;
  private taskSubscriptions: TaskSubscriptions | undefined;
  /** Present while the socket is slow: its frames go through here, off the topics (slow-sockets.ts). */
  private slow: SlowPath | undefined;

  constructor(
    identity: ConnectionIdentity,
    private readonly ctx: ConnectionContext,
  ) {
    this.clientId = identity.clientId;
    this.userId = identity.userId;
    this.projectId = identity.projectId;
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
    if (this.projectId !== undefined) {
      const channel = projectChannel(prefix, this.projectId);
      ws.subscribe(channel);
      broadcasts.join(channel, fanOut.project);
    }
    ws.send(encodeConnectedFrame(this.clientId, this.userId, this.projectId), false);
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
        this.tasks.subscribe(msg);
        return;
      case 'unsubscribe':
        this.tasks.unsubscribe(msg);
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
  }

  /** uWebSockets.js closed the socket (either side, or a timeout): release everything it held. */
  closedBySocket(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.ws = undefined;
    this.slow?.stop();
    this.slow = undefined;
    this.taskSubscriptions?.closeAll();
    const { broadcasts, fanOut } = this.ctx;
    const prefix = this.ctx.engine.prefix;
    if (this.userId !== undefined) broadcasts.leave(userChannel(prefix, this.userId), fanOut.user);
    if (this.projectId !== undefined) broadcasts.leave(projectChannel(prefix, this.projectId), fanOut.project);
    this.ctx.onClose(this);
  }

  // The SubscriberSocket methods below are no-ops once the socket closed (see subscriptions.ts).

  send(frame: string | Buffer): void {
    if (this.slow) this.slow.push(frame);
    else this.ws?.send(frame, false);
  }

  sendError(code: ErrorCode, message: string, extra: { field?: string; requestId?: string; taskId?: string } = {}): void {
    if (!this.ws) return;
    this.ctx.metrics.countError(code);
    this.send(encodeErrorFrame(code, message, extra));
  }

  cork(fn: () => void): void {
    this.ws?.cork(fn);
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
    return this.ws ? this.ws.getBufferedAmount() + (this.slow?.queuedBytes ?? 0) : 0;
  }

  /**
   * Closes with a code and reason; the close handler runs synchronously inside. Frames waiting on a slow
   * socket go out before the close frame, except when the close is about the socket not reading.
   */
  end(code: number, reason: string): void {
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
