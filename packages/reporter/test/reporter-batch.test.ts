/** reporter.publishBatch on both engines: one call, many tasks, each event validated and answered on its own. */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TaskFinishedError, type Engine } from '@taskpulse/engine';
import type { TaskEvent } from '@taskpulse/protocol';
import { createReporter, ReporterInputError, type ProgressReporter } from '../src/index';
import { ENGINE_MATRIX, closeEngines } from '@taskpulse/testkit/engines';
import { historyOf } from './task-frames';

describe.each(ENGINE_MATRIX)('reporter.publishBatch on the $name engine', (factory) => {
  let engine: Engine;
  let reporter: ProgressReporter;
  const id = () => `task-${randomUUID().slice(0, 8)}`;

  beforeEach(async () => {
    engine = await factory.open();
    reporter = createReporter(engine);
  });
  afterEach(async () => {
    await closeEngines();
  });

  it('publishes valid events and answers invalid or refused ones on their own, in order', async () => {
    const [a, b, finished] = [id(), id(), id()];
    await reporter.notifyTaskStart(finished);
    await reporter.notifyTaskComplete(finished);
    const events: TaskEvent[] = [
      { kind: 'start', taskId: a, userId: 'u-1' },
      { kind: 'progress', taskId: a, progress: 150 },
      { kind: 'progress', taskId: b, progress: 10, message: 'ten' },
      { kind: 'progress', taskId: finished, progress: 10 },
      { kind: 'progress', taskId: a, progress: 50, currentStep: 'encode', completedSteps: 1, totalSteps: 2 },
      { kind: 'complete', taskId: b, result: { ok: true } },
    ];
    const results = await reporter.publishBatch(events.map((event) => ({ event })));
    expect(results.map((r) => r.status)).toEqual(['published', 'error', 'published', 'error', 'published', 'published']);
    const bad = results[1] as { status: 'error'; error: ReporterInputError };
    expect(bad.error).toBeInstanceOf(ReporterInputError);
    expect(bad.error).toMatchObject({ field: 'progress', method: 'publishBatch', taskId: a });
    expect((results[3] as { error: unknown }).error).toBeInstanceOf(TaskFinishedError);
    expect(results[4]).toMatchObject({ status: 'published', offset: 2 });
    expect((await historyOf(engine, a)).map((f) => f.offset)).toEqual([1, 2]);
    expect((await historyOf(engine, b)).map((f) => f.type)).toEqual(['progress', 'status']);
    expect(await reporter.publishBatch([])).toEqual([]);
  });

  it('passes dedupe keys per event', async () => {
    const taskId = id();
    const dedupe = (n: number) => ({ source: 'bullmq:q', id: `${n}-0` });
    const results = await reporter.publishBatch([
      { event: { kind: 'progress', taskId, progress: 1 }, dedupe: dedupe(2) },
      { event: { kind: 'progress', taskId, progress: 2 }, dedupe: dedupe(1) },
    ]);
    expect(results.map((r) => r.status)).toEqual(['published', 'duplicate']);
  });
});
