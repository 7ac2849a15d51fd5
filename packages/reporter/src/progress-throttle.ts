/**
 * The reporter's opt-in coalescing window (`minIntervalMs`), per task: the guide asks for updates at a
 * sensible rate, not on every item; this does it for the user.
 *
 * Rules, per task:
 * - Leading edge: a progress update when none went out in the last `minIntervalMs` goes out at once.
 * - Inside the window an update is held, and a newer one is merged into it (fields it leaves out keep the
 *   held values, so nothing the user set is lost); the merged update goes out when the window ends
 *   (trailing edge). Only superseded progress is merged: nothing else is ever dropped.
 * - A change of step (`current_step`), and every status event (start, complete, fail, cancel), sends the
 *   held update first and then itself at once, in that order. After a status the next progress is a
 *   leading edge again.
 * - `flush()` sends what is held now (call it before a process exits; timers with something held keep the
 *   process alive until it went out).
 * Sends happen in call order (the engine applies calls in the order they were made), so frames keep the
 * order of the calls that produced them.
 */
import type { DedupeKey, PublishResult } from '@taskpulse/engine';
import type { TaskEvent } from '@taskpulse/protocol';

/** What a held (coalesced) update resolves to: it will go out merged into a later one. */
export interface Coalesced {
  status: 'coalesced';
}

/** Called with the failure of a held update's later send (nobody awaits it), and the task it was for. */
export type DeferredErrorHandler = (error: unknown, taskId: string) => void;

type ProgressEvent = Extract<TaskEvent, { kind: 'progress' }>;

/** Sends one event now (validated and encoded by the caller). */
type Send = (event: TaskEvent, dedupe: DedupeKey | undefined) => Promise<PublishResult>;

interface Held {
  event: ProgressEvent;
  dedupe: DedupeKey | undefined;
}

interface TaskWindow {
  /** When the last progress went out (ms); -Infinity after a status, so the next progress leads. */
  lastSentAt: number;
  /** The step of the newest accepted progress. */
  step: string | undefined;
  held: Held | undefined;
  /** Fires when the window ends: sends what is held, or forgets the task when nothing is. */
  timer: NodeJS.Timeout | undefined;
}

/** Coalesces one reporter's progress updates per task; see the file comment for the rules. */
export class ProgressThrottle {
  private readonly windows = new Map<string, TaskWindow>();

  constructor(
    private readonly send: Send,
    private readonly minIntervalMs: number,
    private readonly onDeferredError: DeferredErrorHandler,
  ) {}

  /** A validated progress update: sent now (leading edge, step change) or held and merged. */
  progress(event: ProgressEvent, dedupe: DedupeKey | undefined): Promise<PublishResult | Coalesced> {
    const window = this.windowOf(event.taskId);
    const now = Date.now();
    const stepChanged = event.currentStep !== undefined && event.currentStep !== window.step;
    const otherSource = window.held !== undefined && window.held.dedupe?.source !== dedupe?.source;
    if (event.currentStep !== undefined) window.step = event.currentStep;
    if (stepChanged || otherSource) this.sendHeld(event.taskId, window);
    if (stepChanged || (window.held === undefined && now - window.lastSentAt >= this.minIntervalMs)) {
      window.lastSentAt = now;
      this.schedule(event.taskId, window, this.minIntervalMs);
      return this.send(event, dedupe);
    }
    window.held = window.held === undefined ? { event, dedupe } : { event: mergeProgress(window.held.event, event), dedupe: dedupe ?? window.held.dedupe };
    if (window.timer === undefined) this.schedule(event.taskId, window, Math.max(0, window.lastSentAt + this.minIntervalMs - now));
    window.timer!.ref();
    return Promise.resolve({ status: 'coalesced' });
  }

  /** A status event: what is held for the task goes out first, then this, at once. */
  status(event: Exclude<TaskEvent, ProgressEvent>, dedupe: DedupeKey | undefined): Promise<PublishResult> {
    const window = this.windows.get(event.taskId);
    if (window) {
      this.sendHeld(event.taskId, window);
      window.lastSentAt = Number.NEGATIVE_INFINITY;
      window.step = undefined;
    }
    return this.send(event, dedupe);
  }

  /** Before a batch with these tasks goes out: their held updates first, so order is kept. */
  releaseBefore(taskIds: Iterable<string>): void {
    for (const taskId of taskIds) {
      const window = this.windows.get(taskId);
      if (window) this.sendHeld(taskId, window);
    }
  }

  /** Sends what is held (for one task, or all) now; resolves once those sends are done, rejects with the first failure. */
  async flush(taskId?: string): Promise<void> {
    const sends: Array<Promise<unknown>> = [];
    const windows = taskId === undefined ? [...this.windows.values()] : [this.windows.get(taskId)];
    for (const window of windows) {
      const held = window && this.takeHeld(window);
      if (held) sends.push(this.send(held.event, held.dedupe));
    }
    const outcomes = await Promise.allSettled(sends);
    const failed = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }

  private windowOf(taskId: string): TaskWindow {
    let window = this.windows.get(taskId);
    if (!window) {
      window = { lastSentAt: Number.NEGATIVE_INFINITY, step: undefined, held: undefined, timer: undefined };
      this.windows.set(taskId, window);
    }
    return window;
  }

  private schedule(taskId: string, window: TaskWindow, delayMs: number): void {
    clearTimeout(window.timer);
    window.timer = setTimeout(() => this.windowEnded(taskId, window), delayMs);
    // only a held update keeps the process alive
    if (!window.held) window.timer.unref();
  }

  private windowEnded(taskId: string, window: TaskWindow): void {
    window.timer = undefined;
    if (!window.held) {
      if (this.windows.get(taskId) === window) this.windows.delete(taskId);
      return;
    }
    window.lastSentAt = Date.now();
    this.sendHeld(taskId, window);
    this.schedule(taskId, window, this.minIntervalMs);
  }

  /** Sends the held update in the background; its failure goes to onDeferredError. */
  private sendHeld(taskId: string, window: TaskWindow): void {
    const held = this.takeHeld(window);
    if (!held) return;
    let sending: Promise<PublishResult>;
    try {
      sending = this.send(held.event, held.dedupe);
    } catch (error) {
      sending = Promise.reject(error);
    }
    sending.catch((error: unknown) => this.onDeferredError(error, taskId));
  }

  private takeHeld(window: TaskWindow): Held | undefined {
    const { held } = window;
    window.held = undefined;
    window.timer?.unref();
    return held;
  }
}

/**
 * A held update with a newer one folded in: the newer's fields win, the ones it leaves out keep the held
 * values. When that would pair steps that contradict (completed > total), the newer's step field wins and
 * the held one of the pair is dropped, as the newer update alone would have been valid.
 */
export function mergeProgress(older: ProgressEvent, newer: ProgressEvent): ProgressEvent {
  const merged: ProgressEvent = { ...older };
  for (const [key, value] of Object.entries(newer) as Array<[keyof ProgressEvent, unknown]>) {
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  const { completedSteps, totalSteps } = merged;
  if (completedSteps !== undefined && totalSteps !== undefined && completedSteps > totalSteps) {
    if (newer.completedSteps === undefined) delete merged.completedSteps;
    else delete merged.totalSteps;
  }
  return merged;
}
