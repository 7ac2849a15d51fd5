/**
 * Gateway-only engine helpers: a wrapper that counts the engine registrations a gateway holds and slows its
 * reads down, and publishing shorthands. The engines themselves come from @taskpulse/testkit/engines.
 */
import { EngineUnavailableError, type ChannelListener, type Engine } from '@taskpulse/engine';
import { encodeTaskEvent, type TaskEvent } from '@taskpulse/protocol';

/** An engine wrapper that counts live (channel, listener) registrations and can hold reads back. */
export interface InstrumentedEngine extends Engine {
  /** Registrations that resolved and were not removed since, on one channel or on all. */
  registrations(channel?: string): number;
  /** Reads (latest, replay) started so far. */
  readsStarted(): number;
  /** Makes every read wait for the returned release function (or a delay in ms per read). */
  holdReads(): () => void;
  delayReads(maxMs: number): void;
  /** Makes reads fail as an unreachable Redis would, until called with false. */
  failReads(on: boolean): void;
  inner: Engine;
}

/** Wraps an engine; everything not instrumented goes straight through. */
export function instrument(inner: Engine): InstrumentedEngine {
  const live = new Map<string, number>();
  let reads = 0;
  let gate: Promise<void> | undefined;
  let delayMs = 0;
  let failing = false;
  const beforeRead = async () => {
    reads += 1;
    if (failing) throw new EngineUnavailableError('reads fail in this test');
    if (gate) await gate;
    if (delayMs > 0) await new Promise((r) => setTimeout(r, Math.random() * delayMs));
  };
  const extra = {
    inner,
    registrations: (channel?: string) =>
      channel === undefined ? [...live.values()].reduce((a, b) => a + b, 0) : (live.get(channel) ?? 0),
    readsStarted: () => reads,
    holdReads() {
      let release!: () => void;
      gate = new Promise((r) => (release = r));
      return () => {
        gate = undefined;
        release();
      };
    },
    delayReads(maxMs: number) {
      delayMs = maxMs;
    },
    failReads(on: boolean) {
      failing = on;
    },
    async subscribe(channel: string, listener: ChannelListener) {
      await inner.subscribe(channel, listener);
      live.set(channel, (live.get(channel) ?? 0) + 1);
    },
    async unsubscribe(channel: string, listener: ChannelListener) {
      live.set(channel, (live.get(channel) ?? 0) - 1);
      if (live.get(channel) === 0) live.delete(channel);
      await inner.unsubscribe(channel, listener);
    },
    async latest(taskId: string) {
      await beforeRead();
      return inner.latest(taskId);
    },
    async replay(taskId: string, afterOffset: number, limit: number) {
      await beforeRead();
      return inner.replay(taskId, afterOffset, limit);
    },
  };
  return new Proxy(inner, {
    get(target, property) {
      if (property in extra) return extra[property as keyof typeof extra];
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as unknown as InstrumentedEngine;
}

/** Publishes one task event and returns its offset. */
export async function publish(engine: Engine, event: TaskEvent): Promise<{ offset: number; epoch: string }> {
  const result = await engine.publish(encodeTaskEvent(event));
  if (result.status !== 'published') throw new Error(`publish of ${event.kind} on ${event.taskId} was a duplicate`);
  return { offset: result.offset, epoch: result.epoch };
}

/** A progress event with a message. */
export function progress(taskId: string, n: number, message = `step ${n}`): TaskEvent {
  return { kind: 'progress', taskId, progress: n % 101, message };
}
