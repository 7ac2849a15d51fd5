/**
 * A resumed session's task subscriptions, restored after a short grace rather than at once. The session's
 * positions can be up to SESSION_REFRESH_MS old after the previous gateway was killed, while a client that
 * resubscribes with `offset`+`epoch` right after `connected` knows exactly what it has: its own subscribe
 * for a pending task wins, so it gets no frame twice. A resubscribe without a position (the guide's
 * `resubscribeTasks()`) takes the session's, so the missed frames still come. Whatever the client did not
 * claim within the grace is restored by the server.
 */
import type { ClientMessage } from '@taskpulse/protocol';
import type { TaskPosition } from '@taskpulse/engine';

/** How long a resumed connection's own subscribes may claim its session's tasks, in ms. */
export const RESTORE_GRACE_MS = 200;

type SubscribeMessage = Extract<ClientMessage, { action: 'subscribe' }>;

export class PendingRestore {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly tasks: Map<string, TaskPosition>,
    /** Restores what is left when the grace ends. */
    private readonly restoreRest: (tasks: Map<string, TaskPosition>) => void,
    graceMs = RESTORE_GRACE_MS,
  ) {
    this.timer = setTimeout(() => this.finish(), graceMs);
  }

  /** The client subscribes: a pending task is claimed, and a subscribe without a position gets the session's. */
  claim(msg: SubscribeMessage): SubscribeMessage {
    const position = this.tasks.get(msg.task_id);
    if (position === undefined) return msg;
    this.tasks.delete(msg.task_id);
    if (msg.offset !== undefined && msg.epoch !== undefined) return msg;
    return position.epoch === '' ? msg : { ...msg, offset: position.offset, epoch: position.epoch };
  }

  /** The client unsubscribes: a pending task is no longer restored. */
  drop(taskId: string): void {
    this.tasks.delete(taskId);
  }

  /** The tasks still pending with their session positions (a close during the grace keeps them in the session). */
  positions(): Record<string, TaskPosition> {
    return Object.fromEntries(this.tasks);
  }

  /** The socket closed: nothing more is restored here. */
  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.tasks.clear();
  }

  private finish(): void {
    this.timer = undefined;
    if (this.tasks.size > 0) this.restoreRest(new Map(this.tasks));
    this.tasks.clear();
  }
}
