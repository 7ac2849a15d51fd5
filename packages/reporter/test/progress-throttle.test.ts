/**
 * The coalescing window (`minIntervalMs`) on both engines: leading and trailing edge, merging of held
 * updates, step changes and statuses flushing at once and in order, flush(), batches, deferred errors.
 * Windows are either long (nothing leaves by the clock during the test) or short with a wait for the
 * trailing edge; the exact timing runs on fake timers with the memory engine.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TaskFinishedError, createMemoryEngine, type Engine } from '@taskpulse/engine';
import { taskChannel } from '@taskpulse/protocol';
import { waitFor } from '@taskpulse/testkit';
import { createReporter, mergeProgress, ReporterInputError, type Coalesced, type ProgressReporter } from '../src/index';
import { ENGINE_MATRIX, closeEngines } from '@taskpulse/testkit/engines';
import { historyOf, watch } from './task-frames';

/** Long enough that nothing leaves by the clock while a test runs. */
const LONG_MS = 60_000;

/** A task's frames as [offset, progress or status, message or result], oldest first. */
async function framesOf(engine: Engine, taskId: string): Promise<Array<[number, unknown, unknown]>> {
  return (await historyOf(engine, taskId)).map((f) =>
    f.type === 'progress' ? [f.offset, f.payload.progress, f.payload.message] : [f.offset, f.payload.status, f.payload.result ?? f.payload.error ?? null],
  );
}

describe.each(ENGINE_MATRIX)('coalescing reporter on the $name engine', (factory) => {
  let engine: Engine;
  let taskId: string;
  const reporters: Array<ProgressReporter<Coalesced>> = [];

  function throttled(minIntervalMs: number, onDeferredError?: (error: unknown, taskId: string) => void): ProgressReporter<Coalesced> {
    const reporter = createReporter(engine, { minIntervalMs, ...(onDeferredError ? { onDeferredError } : {}) });
    reporters.push(reporter);
    return reporter;
  }

  beforeEach(async () => {
    engine = await factory.open();
    taskId = `task-${randomUUID().slice(0, 8)}`;
  });
  afterEach(async () => {
    await Promise.all(reporters.splice(0).map((r) => r.flush().catch(() => undefined)));
    await closeEngines();
  });

  it('sends the first update at once, holds the next, and sends them merged at the end of the window', async () => {
    const reporter = throttled(300);
    await reporter.notifyTaskStart(taskId);
    const first = await reporter.updateProgressWithSteps(taskId, 'encode', 0, 4, 'begin');
    expect(first).toMatchObject({ status: 'published', offset: 2 });
    const sentAt = Date.now();
    expect(await reporter.updateProgressWithSteps(taskId, 'encode', 1, 4, 'one')).toEqual({ status: 'coalesced' });
    // fewer fields than the held update: its message and step counts must survive the merge
    expect(await reporter.updateProgress(taskId, 30)).toEqual({ status: 'coalesced' });
    expect(await framesOf(engine, taskId)).toHaveLength(2);
    await waitFor('the trailing update', async () => (await framesOf(engine, taskId)).length === 3, 5000, 10);
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(250);
    const last = (await historyOf(engine, taskId)).at(-1);
    expect(last).toMatchObject({ type: 'progress', offset: 3 });
    expect(last.payload).toMatchObject({ progress: 30, message: 'one', current_step: 'encode', completed_steps: 1, total_steps: 4 });
  });

  it('sends the held update and then a change of step at once, in order', async () => {
    const reporter = throttled(LONG_MS);
    await reporter.updateProgressWithSteps(taskId, 'download', 0, 2, 'a');
    expect(await reporter.updateProgressWithSteps(taskId, 'download', 1, 2, 'b')).toEqual({ status: 'coalesced' });
    const changed = await reporter.updateProgressWithSteps(taskId, 'upload', 1, 2, 'c');
    expect(changed).toMatchObject({ status: 'published', offset: 3 });
    expect(await framesOf(engine, taskId)).toEqual([
      [1, 0, 'a'],
      [2, 50, 'b'],
      [3, 50, 'c'],
    ]);
    // the step change opened a new window
    expect(await reporter.updateProgressWithSteps(taskId, 'upload', 2, 2, 'd')).toEqual({ status: 'coalesced' });
  });

  for (const finish of ['complete', 'fail', 'cancel'] as const) {
    it(`sends held progress before ${finish}, at once and in order; the next start leads again`, async () => {
      const reporter = throttled(LONG_MS);
      const live = await watch(engine, taskChannel(engine.prefix, taskId));
      await reporter.notifyTaskStart(taskId);
      await reporter.updateProgress(taskId, 10, 'ten');
      await reporter.updateProgress(taskId, 20, 'twenty');
      await reporter.updateProgress(taskId, 30);
      const status = { complete: 'completed', fail: 'failed', cancel: 'cancelled' }[finish];
      const done =
        finish === 'complete'
          ? await reporter.notifyTaskComplete(taskId, { ok: 1 })
          : finish === 'fail'
            ? await reporter.notifyTaskFailed(taskId, 'boom')
            : await reporter.notifyTaskCancelled(taskId, 'asked');
      expect(done).toMatchObject({ status: 'published', offset: 4 });
      expect(await framesOf(engine, taskId)).toEqual([
        [1, 'running', null],
        [2, 10, 'ten'],
        [3, 30, 'twenty'],
        [4, status, { complete: { ok: 1 }, fail: 'boom', cancel: 'asked' }[finish]],
      ]);
      await waitFor('four live frames', () => live.length === 4);
      expect(live.map((frame) => JSON.parse(frame.toString()).offset)).toEqual([1, 2, 3, 4]);
      await reporter.notifyTaskStart(taskId);
      expect(await reporter.updateProgress(taskId, 5)).toMatchObject({ status: 'published', offset: 6 });
    });
  }

  it('loses nothing in a burst: 10,000 updates become a handful of frames ending with the last one', async () => {
    const reporter = throttled(50);
    const live = await watch(engine, taskChannel(engine.prefix, taskId));
    await reporter.notifyTaskStart(taskId);
    const started = Date.now();
    const outcomes = { published: 0, coalesced: 0 };
    for (let i = 1; i <= 10_000; i++) {
      const result = await reporter.updateProgressWithSteps(taskId, 'work', i, 10_000, `item ${i}`);
      outcomes[result.status === 'coalesced' ? 'coalesced' : 'published'] += 1;
    }
    const elapsed = Date.now() - started;
    const done = await reporter.notifyTaskComplete(taskId, 'ok');
    const frames = await historyOf(engine, taskId);
    // leading edges plus trailing edges: at most about two per window, never one per update
    expect(frames.length).toBeLessThanOrEqual(3 + 2 * Math.ceil(elapsed / 50));
    expect(outcomes.published + outcomes.coalesced).toBe(10_000);
    expect(outcomes.coalesced).toBeGreaterThan(9_000);
    const lastProgress = frames.at(-2);
    expect(lastProgress.payload).toMatchObject({ progress: 100, completed_steps: 10_000, message: 'item 10000' });
    expect(frames.at(-1)).toMatchObject({ type: 'status', offset: done.offset, payload: { status: 'completed' } });
    expect(frames.map((f) => f.offset)).toEqual(frames.map((_, i) => i + 1));
    await waitFor('every frame live', () => live.length === frames.length);
  });

  it('flush() sends what is held now; a batch sends the held updates of its tasks first', async () => {
    const reporter = throttled(LONG_MS);
    await reporter.updateProgress(taskId, 1);
    await reporter.updateProgress(taskId, 2, 'held');
    await reporter.flush();
    expect(await framesOf(engine, taskId)).toEqual([
      [1, 1, ''],
      [2, 2, 'held'],
    ]);
    await reporter.updateProgress(taskId, 3, 'held again');
    const results = await reporter.publishBatch([{ event: { kind: 'progress', taskId, progress: 4, message: 'batch' } }]);
    expect(results).toMatchObject([{ status: 'published', offset: 4 }]);
    expect((await framesOf(engine, taskId)).slice(2)).toEqual([
      [3, 3, 'held again'],
      [4, 4, 'batch'],
    ]);
  });

  it('refuses a bad update at once and never holds it', async () => {
    const reporter = throttled(LONG_MS);
    await reporter.updateProgress(taskId, 1);
    await expect(reporter.updateProgress(taskId, 150)).rejects.toBeInstanceOf(ReporterInputError);
    await expect(reporter.updateProgressWithSteps(taskId, 's', 5, 4)).rejects.toMatchObject({ field: 'completed_steps' });
    await reporter.flush();
    expect(await framesOf(engine, taskId)).toEqual([[1, 1, '']]);
  });

  it('reports a held update whose later send failed (the task finished elsewhere) with its task id', async () => {
    const failures: Array<[unknown, string]> = [];
    const reporter = throttled(100, (error, id) => failures.push([error, id]));
    await reporter.updateProgress(taskId, 1);
    await reporter.updateProgress(taskId, 2);
    await createReporter(engine).notifyTaskComplete(taskId);
    await waitFor('the deferred failure', () => failures.length === 1, 5000, 10);
    expect(failures[0]![0]).toBeInstanceOf(TaskFinishedError);
    expect(failures[0]![1]).toBe(taskId);
  });

  it('keeps each task in its own window', async () => {
    const reporter = throttled(LONG_MS);
    const other = `${taskId}-b`;
    expect(await reporter.updateProgress(taskId, 1)).toMatchObject({ status: 'published' });
    expect(await reporter.updateProgress(other, 1)).toMatchObject({ status: 'published' });
    expect(await reporter.updateProgress(taskId, 2)).toEqual({ status: 'coalesced' });
    expect(await reporter.updateProgress(other, 2)).toEqual({ status: 'coalesced' });
  });
});

describe('coalescing window timing (memory engine, fake timers)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends at the leading edge, at the end of each window, and nothing in between', async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 1, 21) });
    const engine = createMemoryEngine();
    const reporter = createReporter(engine, { minIntervalMs: 1000 });
    const count = async () => (await engine.history('t', 100))?.count ?? 0;
    await reporter.updateProgress('t', 1);
    expect(await count()).toBe(1);
    await vi.advanceTimersByTimeAsync(100);
    await reporter.updateProgress('t', 2);
    await vi.advanceTimersByTimeAsync(899);
    expect(await count()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(await count()).toBe(2);
    // the trailing send opened a new window: an update 500 ms later waits for its end
    await vi.advanceTimersByTimeAsync(500);
    await reporter.updateProgress('t', 3);
    await vi.advanceTimersByTimeAsync(499);
    expect(await count()).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(await count()).toBe(3);
    // a quiet window forgets the task: the next update leads again
    await vi.advanceTimersByTimeAsync(5000);
    expect(await reporter.updateProgress('t', 4)).toMatchObject({ status: 'published', offset: 4 });
    await engine.close();
  });

  it('refuses a window that is not a number of ms >= 0', () => {
    const engine = createMemoryEngine();
    expect(() => createReporter(engine, { minIntervalMs: -1 })).toThrow(/minIntervalMs must be/);
    expect(() => createReporter(engine, { minIntervalMs: Number.NaN })).toThrow(/minIntervalMs must be/);
  });
});

describe('mergeProgress', () => {
  const base = { kind: 'progress', taskId: 't' } as const;

  it('lets the newer fields win and keeps the held ones the newer leaves out', () => {
    expect(
      mergeProgress(
        { ...base, progress: 10, message: 'a', currentStep: 's', completedSteps: 1, totalSteps: 4, timestamp: 'x' },
        { ...base, progress: 20, message: undefined, timestamp: 'y' },
      ),
    ).toEqual({ ...base, progress: 20, message: 'a', currentStep: 's', completedSteps: 1, totalSteps: 4, timestamp: 'y' });
  });

  it('drops the held half of a step pair that would contradict the newer one', () => {
    expect(mergeProgress({ ...base, progress: 1, completedSteps: 5, totalSteps: 10 }, { ...base, progress: 2, totalSteps: 3 })).toEqual({
      ...base,
      progress: 2,
      totalSteps: 3,
    });
    expect(mergeProgress({ ...base, progress: 1, completedSteps: 1, totalSteps: 2 }, { ...base, progress: 2, completedSteps: 3 })).toEqual({
      ...base,
      progress: 2,
      completedSteps: 3,
    });
  });
});
