/**
 * One task as the client follows it: its view, the handlers of every `subscribe` call on it, and the rules
 * that keep the stream exact across reconnects. A frame whose (epoch, offset) is not newer than the view's
 * is a duplicate and is dropped; a frame of a new epoch starts over (the history was lost and the server
 * says so); a jump in offsets without `conflated` outside a subscribe's state delivery is a hole, which the
 * client repairs by subscribing again from its position.
 */
import type { AckFrame, ProgressFrame, StatusFrame } from '@taskpulse/protocol';
import type { TaskpulseError } from './errors';
import { TaskView } from './task-view';

/** The answer to a subscribe: whether a resume from the client's position was exact, and the position after it. */
export interface SubscribeAck {
  taskId: string;
  /** True when every missed frame was sent; false when the current state was sent instead (or nothing to resume). */
  recovered: boolean | undefined;
  offset: number | undefined;
  epoch: string | undefined;
  /** True for the server's restore of a resumed session (an ack without request_id). */
  restoredByServer: boolean;
}

/** Callbacks for one task; every one optional. `view` is the same live object each time. */
export interface TaskHandlers {
  /** A progress frame (never twice for one offset). */
  progress?(frame: ProgressFrame, view: TaskView): void;
  /** A status frame: running, completed, failed, cancelled. */
  status?(frame: StatusFrame, view: TaskView): void;
  /** The view changed: after each frame, and on a resync or a subscribe ack. */
  state?(view: TaskView): void;
  /** An error frame about this task (e.g. `forbidden`), or a subscribe that timed out. */
  error?(error: TaskpulseError): void;
  /** Each subscribe ack, on the first subscribe and after every reconnect. */
  subscribed?(ack: SubscribeAck): void;
}

/** What the stream rules decided about a frame. */
export type FrameVerdict = 'applied' | 'duplicate' | 'hole' | 'ignored';

/** Internal: one followed task. */
export class TaskSubscription {
  readonly view: TaskView;
  readonly handlers = new Set<TaskHandlers>();
  /** A subscribe is on its way: until its ack, the state of a non-exact resume may jump offsets. */
  settling = true;
  /** A hole was found: frames are ignored until the unsubscribe of the repair is acknowledged. */
  repairing = false;
  /** The request id of the repair's unsubscribe, whose ack ends `repairing`. */
  repairRequestId: string | undefined;
  /** The request id of the newest subscribe sent for this task. */
  requestId: string | undefined;
  lastAck: SubscribeAck | undefined;
  /** Waiters of `ready` promises, answered by the next ack or error. */
  readonly waiters = new Set<{ resolve(ack: SubscribeAck): void; reject(error: TaskpulseError): void }>();

  constructor(readonly taskId: string) {
    this.view = new TaskView(taskId);
  }

  /** Applies a task frame by the stream rules and tells the handlers; returns what was done with it. */
  accept(frame: ProgressFrame | StatusFrame, report: (error: unknown) => void): FrameVerdict {
    if (this.repairing) return 'ignored';
    const { view } = this;
    if (view.epoch === frame.epoch && view.offset !== undefined) {
      if (frame.offset <= view.offset) return 'duplicate';
      if (frame.offset > view.offset + 1 && !this.settling && !(frame.type === 'progress' && frame.conflated)) return 'hole';
    }
    view.apply(frame);
    this.each(report, (h) => (frame.type === 'progress' ? h.progress?.(frame, view) : h.status?.(frame, view)));
    this.each(report, (h) => h.state?.(view));
    return 'applied';
  }

  /** A subscribe ack (the client's, or the server's restore): the stream is live from here. */
  acknowledged(frame: AckFrame, report: (error: unknown) => void): void {
    const { recovered, offset, epoch } = frame.payload;
    if (epoch !== undefined && offset !== undefined && this.view.epoch === undefined) {
      this.view.offset = offset;
      this.view.epoch = epoch;
    }
    this.settling = false;
    const ack: SubscribeAck = { taskId: this.taskId, recovered, offset, epoch, restoredByServer: frame.request_id === undefined };
    this.lastAck = ack;
    for (const waiter of this.waiters) waiter.resolve(ack);
    this.waiters.clear();
    this.each(report, (h) => h.subscribed?.(ack));
    this.each(report, (h) => h.state?.(this.view));
  }

  /**
   * A resync notice: the server could not bridge a hole (engine outage) or the task's history was lost (new
   * epoch). The view takes the notice's position; the state frames that preceded it are already applied.
   */
  resynced(frame: AckFrame, report: (error: unknown) => void): void {
    const { offset, epoch } = frame.payload;
    if (offset !== undefined) this.view.offset = offset;
    if (epoch !== undefined) this.view.epoch = epoch;
    this.each(report, (h) => h.state?.(this.view));
  }

  /** Rejects the waiting `ready` promises (the client closed, or will not reconnect). */
  failWaiters(error: TaskpulseError): void {
    for (const waiter of this.waiters) waiter.reject(error);
    this.waiters.clear();
  }

  /** An error about this task: its handlers and its waiting `ready` promises get it. */
  failed(error: TaskpulseError, report: (error: unknown) => void): void {
    this.failWaiters(error);
    this.each(report, (h) => h.error?.(error));
  }

  /** The position to resume from, when the client has one. */
  position(): { offset: number; epoch: string } | undefined {
    const { offset, epoch } = this.view;
    return offset !== undefined && epoch !== undefined ? { offset, epoch } : undefined;
  }

  private each(report: (error: unknown) => void, call: (handlers: TaskHandlers) => void): void {
    for (const handlers of [...this.handlers]) {
      try {
        call(handlers);
      } catch (error) {
        report(error);
      }
    }
  }
}
