/**
 * One connection's task subscriptions (ARCHITECTURE.md "Subscribing without a gap"): register the
 * socket's window listener and the shared fan-out listener, both resolving once the channel is live;
 * read the state; hand state and ack to the topic handover (topic-handover.ts), which sends them with the held
 * frames and joins the uWebSockets.js topic. Operations on one task run in order (a subscribe's ack
 * always precedes a later unsubscribe's); different tasks proceed in parallel. A socket that closes
 * while a step awaits the engine leaves no engine registration behind.
 */
import type { Logger } from 'pino';
import {
  encodeAckFrame,
  taskChannel,
  type ClientMessage,
} from '@taskpulse/protocol';
import type { ChannelListener, EngineStatus, PubSub, TaskPosition, TaskStore } from '@taskpulse/engine';
import type { GatewayMetrics } from './metrics';
import type { PendingWork } from './pending-work';
import { readTaskState } from './read-task-state';
import { TopicHandover } from './topic-handover';
import type { AuthorizeTask } from './task-authorization';
import type { TaskSocket } from './task-socket';
import type { TaskRelay } from './task-relay';

/** Shared by every connection of one gateway. */
export interface TaskSubscriptionsContext {
  engine: Pick<PubSub, 'subscribe' | 'unsubscribe'> & Pick<TaskStore, 'latest' | 'replay'> & Pick<EngineStatus, 'prefix'>;
  /** The gateway's one task fan-out listener (the relay's, see task-relay.ts). */
  fanOut: ChannelListener;
  /** Where each topic stands; a subscription holds its channel there while it exists. */
  relay: TaskRelay;
  /** A connection's subscriptions changed: its session should be saved soon. */
  sessionChanged(socket: TaskSocket): void;
  metrics: GatewayMetrics;
  logger: Logger;
  pending: PendingWork;
  maxSubscriptions: number;
  /**
   * jwt mode: whether the socket may see a task, asked before anything of the task is read; a refusal is
   * the same `forbidden` for a foreign and an unknown task. Absent (insecure mode): every task is visible.
   */
  authorizeTask?: AuthorizeTask;
}

type SubscribeMessage = Extract<ClientMessage, { action: 'subscribe' }>;
type UnsubscribeMessage = Extract<ClientMessage, { action: 'unsubscribe' }>;

interface Entry {
  channel: string;
  /** Present from registration until the socket joined the topic (see topic-handover.ts). */
  window?: TopicHandover;
  /** Set once the state was sent: from then on the entry owns its engine registrations. */
  delivered: boolean;
  /** The position the subscribe asked to resume from: the session's until the state was sent. */
  requested?: TaskPosition;
}

/** The position of a task subscribed but not delivered anything yet. */
const NO_POSITION: TaskPosition = { offset: 0, epoch: '' };

/** A connection's task subscriptions. */
export class TaskSubscriptions {
  /** Delivered and being-set-up subscriptions, by task id. */
  private readonly entries = new Map<string, Entry>();
  /** The tail of each task's operation queue. */
  private readonly queues = new Map<string, Promise<void>>();

  constructor(
    private readonly socket: TaskSocket,
    private readonly ctx: TaskSubscriptionsContext,
  ) {}

  /** Subscriptions held, delivered or being set up. */
  get size(): number {
    return this.entries.size;
  }

  /** Handles a subscribe frame; the answer (state, ack, or an error frame) arrives asynchronously. */
  subscribe(msg: SubscribeMessage): void {
    this.enqueue(msg.task_id, () => this.runSubscribe(msg));
  }

  /** Handles an unsubscribe frame; unsubscribing from a task not subscribed is acked too. */
  unsubscribe(msg: UnsubscribeMessage): void {
    this.enqueue(msg.task_id, () => this.runUnsubscribe(msg));
  }

  /**
   * Restores a subscription of a resumed session through the same path as a client's subscribe (same
   * checks, same per-task queue, so a client subscribe racing it gets the ack only); the ack has no request_id.
   */
  restore(taskId: string, position: TaskPosition): void {
    const msg: SubscribeMessage = position.epoch === '' ? { action: 'subscribe', task_id: taskId } : { action: 'subscribe', task_id: taskId, ...position };
    this.enqueue(taskId, () => this.runSubscribe(msg));
  }

  /**
   * Each task with the newest position the socket was sent: its window's while it has one, else its
   * topic's (every socket on a topic got the same frames), else the position it asked for.
   */
  positions(): Record<string, TaskPosition> {
    const tasks: Record<string, TaskPosition> = {};
    for (const [taskId, entry] of this.entries) {
      let position: TaskPosition | undefined;
      if (!entry.delivered) position = entry.requested;
      else if (entry.window) {
        const sent = entry.window.position;
        if (sent.epoch !== undefined) position = { offset: sent.offset, epoch: sent.epoch };
      } else position = this.ctx.relay.position(entry.channel);
      tasks[taskId] = position ?? NO_POSITION;
    }
    return tasks;
  }

  /** The socket closed: leave the engine for delivered subscriptions; ones still being set up undo themselves. */
  closeAll(): void {
    for (const entry of this.entries.values()) {
      if (entry.delivered) this.release(entry, 'close');
      this.ctx.relay.drop(entry.channel);
    }
    this.ctx.metrics.subscriptions.dec(this.entries.size);
    this.entries.clear();
  }

  private enqueue(taskId: string, op: () => Promise<void>): void {
    const previous = this.queues.get(taskId);
    // Ops handle engine failures themselves; this catch is for bugs, so one cannot stall the task's queue.
    const guarded = () =>
      op().catch((error: unknown) => {
        this.ctx.logger.error({ err: error, taskId, clientId: this.socket.clientId }, 'a subscription operation failed unexpectedly');
        this.socket.sendError('internal', 'the request could not be handled', { taskId });
      });
    // With nothing queued the op starts synchronously, so limit checks see frames in arrival order.
    const run = previous ? previous.then(guarded) : guarded();
    this.queues.set(taskId, run);
    void this.ctx.pending.track(run).finally(() => {
      if (this.queues.get(taskId) === run) this.queues.delete(taskId);
    });
  }

  private async runSubscribe(msg: SubscribeMessage): Promise<void> {
    const { socket, ctx } = this;
    const taskId = msg.task_id;
    const requestId = msg.request_id;
    if (socket.closed) return;
    // Only jwt mode awaits here; insecure subscribes stay synchronous up to the engine call, as before.
    if (ctx.authorizeTask && !this.entries.has(taskId) && !(await this.authorized(taskId, requestId))) return;
    if (socket.closed) return;
    if (this.entries.has(taskId)) {
      // Already delivered (the queue finished its set-up): the client gets every frame once; just answer.
      socket.send(encodeAckFrame('subscribe', { taskId, requestId }));
      return;
    }
    if (this.entries.size >= ctx.maxSubscriptions) {
      socket.sendError('too_many_subscriptions', `a connection may hold at most ${ctx.maxSubscriptions} task subscriptions; unsubscribe from one first`, {
        field: 'task_id',
        requestId,
        taskId,
      });
      return;
    }
    const channel = taskChannel(ctx.engine.prefix, taskId);
    const position = msg.offset !== undefined && msg.epoch !== undefined ? { offset: msg.offset, epoch: msg.epoch } : undefined;
    const entry: Entry = { channel, delivered: false };
    if (position) entry.requested = position;
    const window = new TopicHandover(socket, channel, () => {
      entry.window = undefined;
      ctx.relay.seed(channel, window.position, window);
      this.leave(channel, window.listener, 'subscribe');
    }, taskId);
    entry.window = window;
    this.entries.set(taskId, entry);
    ctx.relay.hold(channel);
    ctx.metrics.subscriptions.inc();
    ctx.sessionChanged(this.socket);

    const joined = await this.join(channel, window.listener, taskId);
    if (!joined) return this.abandon(taskId, entry, requestId, 'subscribe');
    if (socket.closed || this.entries.get(taskId) !== entry) return this.undo(entry, window);

    let state;
    try {
      state = await readTaskState(ctx.engine, taskId, position);
    } catch (error) {
      ctx.metrics.engineFailures.inc({ operation: 'read' });
      ctx.logger.warn({ err: error, taskId, clientId: socket.clientId }, 'reading task state for a subscribe failed');
      this.undo(entry, window);
      return this.abandon(taskId, entry, requestId, 'read');
    }
    if (socket.closed || this.entries.get(taskId) !== entry) return this.undo(entry, window);

    entry.delivered = true;
    const { recovered, offset, epoch } = state;
    window.deliver(state, encodeAckFrame('subscribe', { taskId, requestId, recovered, offset, epoch }));
    if (window.bridging) ctx.relay.bridge(channel, window);
  }

  /** Asks authorizeTask; on a refusal or a failed owner read, tells the client and returns false. */
  private async authorized(taskId: string, requestId: string | undefined): Promise<boolean> {
    const { socket, ctx } = this;
    let allowed: boolean;
    try {
      allowed = await ctx.authorizeTask!(socket.viewer, taskId);
    } catch (error) {
      ctx.metrics.engineFailures.inc({ operation: 'read' });
      ctx.logger.warn({ err: error, taskId, clientId: socket.clientId }, 'reading the task owner for a subscribe failed');
      socket.sendError('unavailable', 'could not check access to the task: the engine is not reachable; try again', { requestId, taskId });
      return false;
    }
    // One message for foreign and unknown tasks alike: the answer must not tell whether the task exists.
    if (!allowed) socket.sendError('forbidden', 'this connection may not subscribe to the task (not yours, or no such task)', { field: 'task_id', requestId, taskId });
    return allowed;
  }

  private async runUnsubscribe(msg: UnsubscribeMessage): Promise<void> {
    const { socket } = this;
    if (socket.closed) return;
    const entry = this.entries.get(msg.task_id);
    if (entry) {
      this.entries.delete(msg.task_id);
      this.ctx.relay.drop(entry.channel);
      this.ctx.sessionChanged(this.socket);
      this.ctx.metrics.subscriptions.dec();
      socket.unsubscribeTopic(entry.channel);
      this.release(entry, 'unsubscribe');
    }
    socket.send(encodeAckFrame('unsubscribe', { taskId: msg.task_id, requestId: msg.request_id }));
  }

  /** Registers the window and fan-out listeners; on failure undoes whichever succeeded and returns false. */
  private async join(channel: string, own: ChannelListener, taskId: string): Promise<boolean> {
    const { engine, fanOut } = this.ctx;
    const [window, shared] = await Promise.allSettled([engine.subscribe(channel, own), engine.subscribe(channel, fanOut)]);
    if (window.status === 'fulfilled' && shared.status === 'fulfilled') return true;
    const failure = window.status === 'rejected' ? window.reason : (shared as PromiseRejectedResult).reason;
    this.ctx.metrics.engineFailures.inc({ operation: 'subscribe' });
    this.ctx.logger.warn({ err: failure, taskId, channel, clientId: this.socket.clientId }, 'engine subscribe for a task failed');
    if (window.status === 'fulfilled') this.leave(channel, own, 'subscribe');
    if (shared.status === 'fulfilled') this.leave(channel, fanOut, 'subscribe');
    return false;
  }

  /** A delivered entry goes away: leave the shared fan-out and, while it still bridges, the window's listener. */
  private release(entry: Entry, during: string): void {
    const { window } = entry;
    if (window) {
      window.stop();
      this.leave(entry.channel, window.listener, during);
    }
    this.leave(entry.channel, this.ctx.fanOut, during);
  }

  /** Set-up stopped after both registrations succeeded (socket closed or read failed): take both back. */
  private undo(entry: Entry, window: TopicHandover): void {
    window.stop();
    this.leave(entry.channel, window.listener, 'subscribe');
    this.leave(entry.channel, this.ctx.fanOut, 'subscribe');
  }

  /** Drops a subscription whose set-up failed and tells the client, unless the socket is gone. */
  private abandon(taskId: string, entry: Entry, requestId: string | undefined, step: 'subscribe' | 'read'): void {
    if (this.entries.get(taskId) !== entry) return;
    this.entries.delete(taskId);
    this.ctx.relay.drop(entry.channel);
    this.ctx.sessionChanged(this.socket);
    this.ctx.metrics.subscriptions.dec();
    const what = step === 'subscribe' ? 'join the task channel' : 'read the task state';
    this.socket.sendError('unavailable', `could not ${what}: the engine is not reachable; try again`, { requestId, taskId });
  }

  /** Removes one engine registration in the background; a failure is logged and counted, never thrown. */
  private leave(channel: string, listener: ChannelListener, during: string): void {
    const work = this.ctx.engine.unsubscribe(channel, listener).catch((error: unknown) => {
      this.ctx.metrics.engineFailures.inc({ operation: 'unsubscribe' });
      this.ctx.logger.warn({ err: error, channel, during, clientId: this.socket.clientId }, 'engine unsubscribe failed');
    });
    void this.ctx.pending.track(work);
  }
}
