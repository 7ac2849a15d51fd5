/** withProgress with a real BullMQ Worker on the test Redis, on each engine. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { TaskFinishedError, type Engine } from '@taskpulse/engine';
import { waitFor } from '@taskpulse/testkit';
import { ENGINE_MATRIX, closeEngines } from '@taskpulse/testkit/engines';
import type { Job } from 'bullmq';
import { createReporter, ownerOf, taskIdOf, withProgress, type ProgressReporter } from '../src/index';
import { bullmqFixture, type BullmqFixture } from './bullmq-fixture';
import { historyOf } from './task-frames';

/** Waits until BullMQ has finished the job; returns its final state. */
async function settled(job: Job): Promise<'completed' | 'failed'> {
  return waitFor(`job ${job.id} to finish`, async () => {
    const state = await job.getState();
    return state === 'completed' || state === 'failed' ? state : undefined;
  });
}

describe('taskIdOf and ownerOf', () => {
  it('use data.task_id, user_id and project_id, else the job id', () => {
    expect(taskIdOf({ id: '7', data: { task_id: 'task-123' } })).toBe('task-123');
    expect(taskIdOf({ id: '7', data: { task_id: '' } })).toBe('7');
    expect(taskIdOf({ id: '7', data: { task_id: 42 } })).toBe('42');
    expect(taskIdOf({ id: '7', data: null })).toBe('7');
    expect(() => taskIdOf({ data: {} })).toThrow(TypeError);
    expect(ownerOf({ data: { user_id: 'u1', project_id: 'p1' } })).toEqual({ userId: 'u1', projectId: 'p1' });
    expect(ownerOf({ data: { user_id: null } })).toEqual({});
  });
});

describe.each(ENGINE_MATRIX)('withProgress with a real BullMQ worker on the $name engine', (backend) => {
  let engine: Engine;
  let reporter: ProgressReporter;
  let bull: BullmqFixture;

  beforeEach(async () => {
    engine = await backend.open();
    reporter = createReporter(engine);
    bull = bullmqFixture();
  });
  afterEach(async () => {
    await bull.close();
    await closeEngines();
  });

  it('reports start, every step and the return value', async () => {
    const taskId = `task-${randomUUID().slice(0, 8)}`;
    bull.worker(
      withProgress(reporter, async (job, progress) => {
        expect(progress.taskId).toBe(taskId);
        await progress.step('下载视频', 0, 4, '正在下载视频...');
        await progress.step('视频转码', 1, 4, '正在转码视频...');
        await progress.update(60, 'over half');
        await progress.broadcastToUser({ progress: 60 });
        return { video_url: `https://example.com/${String(job.data.name)}.mp4` };
      }),
    );
    const job = await bull.queue.add('video_processing', { task_id: taskId, user_id: 'user-123', project_id: 'project-456', name: 'clip' });
    expect(await settled(job)).toBe('completed');

    const history = await historyOf(engine, taskId);
    expect(history.map((f) => [f.offset, f.type, f.payload.status, f.payload.progress])).toEqual([
      [1, 'status', 'running', undefined],
      [2, 'progress', 'running', 0],
      [3, 'progress', 'running', 25],
      [4, 'progress', 'running', 60],
      [5, 'status', 'completed', undefined],
    ]);
    expect(history[2].payload).toMatchObject({ current_step: '视频转码', completed_steps: 1, total_steps: 4 });
    expect(history[4].payload.result).toEqual({ video_url: 'https://example.com/clip.mp4' });
    const state = await engine.latest(taskId);
    expect(state?.fields).toMatchObject({ user_id: '"user-123"', project_id: '"project-456"', status: '"completed"' });
  });

  it('reports the thrown error with its cause chain, and BullMQ still sees the job fail', async () => {
    bull.worker(
      withProgress(reporter, async (_job, progress) => {
        await progress.step('视频转码', 1, 4);
        throw new Error('video processing failed', { cause: new Error('ffmpeg exited 1', { cause: new Error('disk full') }) });
      }),
    );
    const job = await bull.queue.add('video_processing', { user_id: 'user-123' });
    expect(await settled(job)).toBe('failed');
    expect((await bull.queue.getJob(job.id!))?.failedReason).toBe('video processing failed');

    // No task_id in the data: the job id is the task id.
    const history = await historyOf(engine, job.id!);
    expect(history.map((f) => f.payload.status)).toEqual(['running', 'running', 'failed']);
    expect(history[2].payload.error).toBe('video processing failed: ffmpeg exited 1: disk full');
  });

  it('leaves a task cancelled elsewhere cancelled: the next progress ends the job', async () => {
    const taskId = `task-${randomUUID().slice(0, 8)}`;
    let seen: unknown;
    bull.worker(
      withProgress(reporter, async (_job, progress) => {
        await progress.update(10, 'working');
        await reporter.notifyTaskCancelled(taskId, 'cancelled by the user');
        try {
          await progress.update(20, 'still working');
        } catch (error) {
          seen = error;
          throw error;
        }
        return 'unreachable';
      }),
    );
    const job = await bull.queue.add('video_processing', { task_id: taskId });
    expect(await settled(job)).toBe('failed');
    expect(seen).toBeInstanceOf(TaskFinishedError);
    const history = await historyOf(engine, taskId);
    expect(history.map((f) => f.payload.status)).toEqual(['running', 'running', 'cancelled']);
    expect(history[2].payload.error).toBe('cancelled by the user');
  });

  it('fails the job when the result cannot be recorded, and says why', async () => {
    bull.worker(withProgress(reporter, async () => ({ blob: 'x'.repeat(70_000) })));
    const job = await bull.queue.add('video_processing', { task_id: `task-${randomUUID().slice(0, 8)}` });
    expect(await settled(job)).toBe('failed');
    const history = await historyOf(engine, String(job.data.task_id));
    expect(history.map((f) => f.payload.status)).toEqual(['running', 'failed']);
    expect(history[1].payload.error).toMatch(/^notifyTaskComplete\(task-[0-9a-f]+\): result must be at most 65536 bytes/);
  });
});
