/**
 * The BullMQ bridge with plain BullMQ workers (no reporter code in them) on the test Redis, on each
 * engine: event mapping, failures, invalid progress, removed jobs, and exactly-once with two bridges.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { Engine } from '@taskpulse/engine';
import { waitFor } from '@taskpulse/testkit';
import { type EngineBackend, ENGINE_MATRIX, openReplicas, closeEngines } from '@taskpulse/testkit/engines';
import type { Job } from 'bullmq';
import { pino } from 'pino';
import { createReporter, startBullmqBridge, type BullmqBridge, type BullmqBridgeOptions } from '../src/index';
import { bullmqFixture, type BullmqFixture } from './bullmq-fixture';
import { historyOf } from './task-frames';

/** Collects the bridge's log lines, to check that problems are logged with their context. */
function captureLogs(): { logger: pino.Logger; lines: any[] } {
  const lines: any[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

/** A job's task events as [offset, kind, detail], oldest first. */
async function eventsOf(engine: Engine, taskId: string): Promise<Array<[number, string, unknown]>> {
  return (await historyOf(engine, taskId)).map((frame) => [
    frame.offset,
    frame.type === 'progress' ? 'progress' : frame.payload.status,
    frame.type === 'progress' ? frame.payload.progress : (frame.payload.result ?? frame.payload.error ?? null),
  ]);
}

describe.each(ENGINE_MATRIX)('BullMQ bridge on the $name engine', (backend: EngineBackend) => {
  let engines: [Engine, Engine];
  let engine: Engine;
  let bull: BullmqFixture;
  let logs: ReturnType<typeof captureLogs>;

  beforeEach(async () => {
    engines = await openReplicas(backend);
    engine = engines[0];
    bull = bullmqFixture();
    logs = captureLogs();
  });
  afterEach(async () => {
    await bull.close();
    await closeEngines();
  });

  function bridge(options: Partial<BullmqBridgeOptions> & { engine?: Engine } = {}): BullmqBridge {
    const { engine: bridgeEngine = engine, ...rest } = options;
    return bull.track(
      startBullmqBridge({
        engine: bridgeEngine,
        queueName: bull.queueName,
        connection: bull.connection,
        prefix: bull.prefix,
        logger: logs.logger,
        ...rest,
      } as BullmqBridgeOptions),
    );
  }

  /** Waits until the task's snapshot shows it finished and the bridges have handled everything read. */
  async function finished(taskId: string, ...bridges: BullmqBridge[]): Promise<string> {
    const status = await waitFor(`task ${taskId} to finish`, async () => {
      const text = (await engine.latest(taskId))?.fields.status;
      return text === '"completed"' || text === '"failed"' ? JSON.parse(text) : undefined;
    });
    await Promise.all(bridges.map((b) => b.idle()));
    return status;
  }

  it('turns active, updateProgress (numbers and objects) and completed into task events', async () => {
    const b = bridge();
    await b.ready();
    bull.worker(async (job: Job) => {
      await job.updateProgress(25);
      await job.updateProgress(50);
      await job.updateProgress({ percent: 75, message: '正在上传视频...', step: '上传视频', completed_steps: 3, total_steps: 4 });
      return { video_url: 'https://example.com/video.mp4' };
    });
    const taskId = `task-${randomUUID().slice(0, 8)}`;
    await bull.queue.add('video_processing', { task_id: taskId, user_id: 'user-123', project_id: 'project-456' });
    expect(await finished(taskId, b)).toBe('completed');

    expect(await eventsOf(engine, taskId)).toEqual([
      [1, 'running', null],
      [2, 'progress', 25],
      [3, 'progress', 50],
      [4, 'progress', 75],
      [5, 'completed', { video_url: 'https://example.com/video.mp4' }],
    ]);
    const history = await historyOf(engine, taskId);
    expect(history[3].payload).toMatchObject({ message: '正在上传视频...', current_step: '上传视频', completed_steps: 3, total_steps: 4 });
    expect((await engine.latest(taskId))?.fields).toMatchObject({ user_id: '"user-123"', project_id: '"project-456"' });
    expect(b.counts()).toEqual({ published: 5, duplicates: 0, invalid: 0, refused: 0, errors: 0 });
  });

  it('records a failing job as failed with its reason, once retries are exhausted', async () => {
    const b = bridge();
    bull.worker(async (job: Job) => {
      await job.updateProgress({ progress: 10, message: `attempt ${job.attemptsMade + 1}` });
      throw new Error(`ffmpeg exited 1 (attempt ${job.attemptsMade + 1})`);
    });
    const job = await bull.queue.add('video_processing', {}, { attempts: 2 });
    expect(await finished(job.id!, b)).toBe('failed');
    expect(await eventsOf(engine, job.id!)).toEqual([
      [1, 'running', null],
      [2, 'progress', 10],
      // the retry's start reopens the task; only the final failure is reported
      [3, 'running', null],
      [4, 'progress', 10],
      [5, 'failed', 'ffmpeg exited 1 (attempt 2)'],
    ]);
  });

  it('logs, counts and skips invalid progress values without stopping', async () => {
    const b = bridge();
    bull.worker(async (job: Job) => {
      await job.updateProgress('half' as never);
      await job.updateProgress({ progress: 500 });
      await job.updateProgress({ message: 'no percent' });
      await job.updateProgress({ completed_steps: 1, total_steps: 4 });
      return 'done';
    });
    const taskId = `task-${randomUUID().slice(0, 8)}`;
    const job = await bull.queue.add('video_processing', { task_id: taskId });
    expect(await finished(taskId, b)).toBe('completed');
    expect(await eventsOf(engine, taskId)).toEqual([
      [1, 'running', null],
      [2, 'progress', 25],
      [3, 'completed', 'done'],
    ]);
    expect(b.counts()).toMatchObject({ published: 3, invalid: 3, errors: 0 });
    const skipped = logs.lines.filter((line) => line.msg === 'invalid job event skipped');
    expect(skipped.map((line) => line.field)).toEqual(['progress', 'progress', 'progress']);
    expect(skipped[1]).toMatchObject({ queue: bull.queueName, jobId: job.id, taskId, event: 'progress' });
    expect(skipped[1].problem).toMatch(/progress must be a number from 0 to 100, got 500/);
  });

  it('still reports the task of a job removed on completion (its owner was read before)', async () => {
    const b = bridge();
    const taskId = `task-${randomUUID().slice(0, 8)}`;
    bull.worker(async () => {
      // Finish only once the start is recorded, so the removal surely comes after the bridge read the job.
      await waitFor('the start', () => engine.latest(taskId));
      return 'ok';
    });
    const job = await bull.queue.add('video_processing', { task_id: taskId }, { removeOnComplete: true });
    expect(await finished(taskId, b)).toBe('completed');
    expect(await bull.queue.getJob(job.id!)).toBeUndefined();
    expect((await eventsOf(engine, taskId)).map((event) => event[1])).toEqual(['running', 'completed']);
    expect(await engine.latest(job.id!)).toBeNull();
  });

  it('reports a job that was removed before the bridge read it under its job id, with a warning', async () => {
    bull.worker(async () => 'ok');
    const job = await bull.queue.add('video_processing', { task_id: 'never-seen' }, { removeOnComplete: true });
    await waitFor('the job to be removed', async () => (await bull.queue.getJob(job.id!)) === undefined);
    const late = bridge();
    expect(await finished(job.id!, late)).toBe('completed');
    expect((await eventsOf(engine, job.id!)).map((event) => event[1])).toEqual(['running', 'completed']);
    expect(await engine.latest('never-seen')).toBeNull();
    const warnings = logs.lines.filter((line) => line.msg.startsWith('job was removed before the bridge read it'));
    expect(warnings.map((line) => line.event)).toEqual(['active', 'completed']);
    expect(warnings[0]).toMatchObject({ jobId: job.id, queue: bull.queueName });
  });

  it('publishes each event exactly once with two bridges running (two API replicas)', async () => {
    const [first, second] = [bridge({ engine: engines[0] }), bridge({ engine: engines[1] })];
    await Promise.all([first.ready(), second.ready()]);
    bull.worker(
      async (job: Job) => {
        for (let i = 1; i <= 5; i++) await job.updateProgress(i * 15);
        return { n: job.data.n };
      },
      { concurrency: 4 },
    );
    const taskIds = Array.from({ length: 4 }, (_, n) => `task-${n}-${randomUUID().slice(0, 8)}`);
    await bull.queue.addBulk(taskIds.map((taskId, n) => ({ name: 'video_processing', data: { task_id: taskId, n } })));
    for (const taskId of taskIds) expect(await finished(taskId, first, second)).toBe('completed');

    for (const [n, taskId] of taskIds.entries()) {
      expect(await eventsOf(engine, taskId)).toEqual([
        [1, 'running', null],
        [2, 'progress', 15],
        [3, 'progress', 30],
        [4, 'progress', 45],
        [5, 'progress', 60],
        [6, 'progress', 75],
        [7, 'completed', { n }],
      ]);
    }
    // History is complete once either bridge published; the slower one may still be reading the stream.
    const seenByBoth = () => first.counts().published + first.counts().duplicates + second.counts().published + second.counts().duplicates;
    await waitFor('both bridges to read every event', () => seenByBoth() >= 56);
    const counts = [first.counts(), second.counts()];
    expect(counts[0]!.published + counts[1]!.published).toBe(28);
    expect(counts[0]!.duplicates + counts[1]!.duplicates).toBe(28);
    expect(counts.every((c) => c.errors === 0 && c.invalid === 0)).toBe(true);
  });

  it('replays recent events after a restart without writing any twice', async () => {
    const first = bridge();
    bull.worker(async (job: Job) => {
      await job.updateProgress(40);
      return 'ok';
    });
    const taskId = `task-${randomUUID().slice(0, 8)}`;
    await bull.queue.add('video_processing', { task_id: taskId });
    expect(await finished(taskId, first)).toBe('completed');
    await first.close();

    // A bridge that starts later reads the last minute again: every event is already there.
    const late = bridge();
    await waitFor('the replay', async () => (await late.idle(), late.counts().duplicates === 3));
    expect(late.counts().published).toBe(0);
    expect((await eventsOf(engine, taskId)).map((event) => event[0])).toEqual([1, 2, 3]);

  });

  it('completes a job whose result is too large without the result, and says so', async () => {
    const b = bridge();
    bull.worker(async () => ({ blob: 'x'.repeat(70_000) }));
    const taskId = `task-${randomUUID().slice(0, 8)}`;
    await bull.queue.add('video_processing', { task_id: taskId });
    expect(await finished(taskId, b)).toBe('completed');
    expect(await eventsOf(engine, taskId)).toEqual([
      [1, 'running', null],
      [2, 'completed', null],
    ]);
    expect(b.counts()).toMatchObject({ published: 2, invalid: 1 });
    expect(logs.lines.find((line) => line.msg.startsWith('job result refused'))).toMatchObject({ taskId, event: 'completed' });
  });

  it('skips progress for a task cancelled meanwhile (TaskFinishedError), counted as refused', async () => {
    const b = bridge();
    const reporter = createReporter(engine);
    const taskId = `task-${randomUUID().slice(0, 8)}`;
    bull.worker(async (job: Job) => {
      await waitFor('the start', () => engine.latest(taskId));
      await reporter.notifyTaskCancelled(taskId, 'cancelled by the user');
      await job.updateProgress(50);
      return 'ok';
    });
    await bull.queue.add('video_processing', { task_id: taskId });
    // BullMQ's completion is still a status event: the job did finish.
    expect(await finished(taskId, b)).toBe('completed');
    expect((await eventsOf(engine, taskId)).map((event) => event[1])).toEqual(['running', 'cancelled', 'completed']);
    expect(b.counts()).toMatchObject({ published: 2, refused: 1, errors: 0 });
    expect(logs.lines.find((line) => line.msg === 'progress for a finished task skipped')).toMatchObject({ taskId });
  });

  it('starts reading a minute back by default, at `$` with no window, or where told', () => {
    const before = Date.now();
    const [ms, seq] = bridge().fromEventId.split('-').map(Number);
    expect(ms).toBeGreaterThanOrEqual(before - 60_000);
    expect(ms).toBeLessThanOrEqual(Date.now() - 60_000);
    expect(seq).toBe(0);
    expect(bridge({ replayWindowMs: 0 }).fromEventId).toBe('$');
    expect(bridge({ lastEventId: '0' }).fromEventId).toBe('0');
  });
});
