/**
 * Every reporter method on every engine: the publish result, the snapshot, the history and the exact
 * frame a subscriber receives; engine errors pass through typed.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { TaskFinishedError, createMemoryEngine, type Engine } from '@taskpulse/engine';
import { projectChannel, taskChannel, userChannel } from '@taskpulse/protocol';
import { waitFor } from '@taskpulse/testkit';
import { ENGINE_MATRIX, closeEngines } from '@taskpulse/testkit/engines';
import { createReporter, type ProgressReporter } from '../src/index';
import { historyOf, watch } from './task-frames';

const T0 = '2026-02-21T10:30:00.000Z';

describe.each(ENGINE_MATRIX)('reporter on the $name engine', (backend) => {
  let engine: Engine;
  let reporter: ProgressReporter;
  let taskId: string;
  let live: Buffer[];

  beforeEach(async () => {
    engine = await backend.open();
    reporter = createReporter(engine, { now: () => new Date(T0) });
    taskId = `task-${randomUUID().slice(0, 8)}`;
    live = await watch(engine, taskChannel(engine.prefix, taskId));
  });
  afterEach(async () => {
    await closeEngines();
  });

  /** The frame was stored last in history and received, byte for byte, by the subscriber. */
  async function expectDelivered(result: { offset: number; frame: Buffer }): Promise<any> {
    const page = await engine.history(taskId, 1);
    expect(page?.frames[0]?.equals(result.frame)).toBe(true);
    await waitFor('the frame on the task channel', () => live.some((frame) => frame.equals(result.frame)));
    const frame = JSON.parse(result.frame.toString());
    expect(frame.offset).toBe(result.offset);
    return frame;
  }

  it('notifyTaskStart records a running task with its owner', async () => {
    const result = await reporter.notifyTaskStart(taskId, 'user-123', 'project-456');
    expect(result).toMatchObject({ status: 'published', offset: 1 });
    expect(result.epoch).toMatch(/^[a-z0-9]+$/);
    const frame = await expectDelivered(result);
    expect(frame).toEqual({
      type: 'status',
      task_id: taskId,
      offset: 1,
      epoch: result.epoch,
      payload: { task_id: taskId, status: 'running', timestamp: T0 },
    });
    const state = await engine.latest(taskId);
    expect(state?.fields).toMatchObject({ status: '"running"', progress: '0', user_id: '"user-123"', project_id: '"project-456"' });
  });

  it('updateProgress sets percent and message', async () => {
    await reporter.notifyTaskStart(taskId, 'user-123');
    const result = await reporter.updateProgress(taskId, 37.5, '处理进度: 37.5%');
    expect(result.offset).toBe(2);
    const frame = await expectDelivered(result);
    expect(frame.payload).toEqual({
      task_id: taskId,
      progress: 37.5,
      current_step: '',
      total_steps: 0,
      completed_steps: 0,
      message: '处理进度: 37.5%',
      status: 'running',
      timestamp: T0,
    });
    expect((await engine.latest(taskId))?.fields).toMatchObject({ progress: '37.5', message: '"处理进度: 37.5%"' });
  });

  it('updateProgressWithSteps derives the percent from the steps (2 decimals, 0 for no steps)', async () => {
    await reporter.notifyTaskStart(taskId);
    const result = await reporter.updateProgressWithSteps(taskId, '视频转码', 2, 3, '正在转码视频...');
    const frame = await expectDelivered(result);
    expect(frame.type).toBe('progress');
    expect(frame.payload).toMatchObject({
      progress: 66.67,
      current_step: '视频转码',
      completed_steps: 2,
      total_steps: 3,
      message: '正在转码视频...',
    });
    const none = await reporter.updateProgressWithSteps(taskId, '准备', 0, 0, '');
    expect(JSON.parse(none.frame.toString()).payload).toMatchObject({ progress: 0, total_steps: 0 });
    const oneThird = await reporter.updateProgressWithSteps(taskId, '上传视频', 1, 3);
    expect(JSON.parse(oneThird.frame.toString()).payload.progress).toBe(33.33);
  });

  it('notifyTaskComplete stores the result and 100 %', async () => {
    await reporter.notifyTaskStart(taskId);
    const result = await reporter.notifyTaskComplete(taskId, { video_url: 'https://example.com/video.mp4' });
    const frame = await expectDelivered(result);
    expect(frame.payload).toEqual({
      task_id: taskId,
      status: 'completed',
      result: { video_url: 'https://example.com/video.mp4' },
      timestamp: T0,
    });
    expect((await engine.latest(taskId))?.fields).toMatchObject({ status: '"completed"', progress: '100' });
  });

  it('notifyTaskFailed keeps the cause chain of an Error, and takes a string', async () => {
    await reporter.notifyTaskStart(taskId);
    const error = new Error('video processing failed', {
      cause: new Error('ffmpeg exited 1', { cause: new Error('disk full') }),
    });
    const result = await reporter.notifyTaskFailed(taskId, error);
    const frame = await expectDelivered(result);
    expect(frame.payload).toEqual({
      task_id: taskId,
      status: 'failed',
      error: 'video processing failed: ffmpeg exited 1: disk full',
      timestamp: T0,
    });
    expect((await engine.latest(taskId))?.fields.error).toBe('"video processing failed: ffmpeg exited 1: disk full"');

    await reporter.notifyTaskStart(taskId);
    const plain = await reporter.notifyTaskFailed(taskId, '视频处理失败');
    expect(JSON.parse(plain.frame.toString()).payload.error).toBe('视频处理失败');
  });

  it('notifyTaskCancelled records the reason when given', async () => {
    await reporter.notifyTaskStart(taskId);
    const result = await reporter.notifyTaskCancelled(taskId, 'cancelled by user-123');
    const frame = await expectDelivered(result);
    expect(frame.payload).toEqual({ task_id: taskId, status: 'cancelled', error: 'cancelled by user-123', timestamp: T0 });
    await reporter.notifyTaskStart(taskId);
    const bare = await reporter.notifyTaskCancelled(taskId);
    expect(JSON.parse(bare.frame.toString()).payload).toEqual({ task_id: taskId, status: 'cancelled', timestamp: T0 });
  });

  it('keeps every event in history, in order, with contiguous offsets', async () => {
    await reporter.notifyTaskStart(taskId, 'u1', 'p1');
    for (let step = 0; step < 4; step++) await reporter.updateProgressWithSteps(taskId, `step-${step}`, step, 4);
    await reporter.notifyTaskComplete(taskId, { ok: true });
    const history = await historyOf(engine, taskId);
    expect(history.map((frame) => frame.offset)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(history.map((frame) => frame.payload.progress ?? frame.payload.status)).toEqual([
      'running', 0, 25, 50, 75, 'completed',
    ]);
  });

  it('passes TaskFinishedError through when progress follows the end, and writes nothing', async () => {
    await reporter.notifyTaskStart(taskId);
    await reporter.notifyTaskComplete(taskId);
    const rejection = reporter.updateProgress(taskId, 50, 'too late');
    await expect(rejection).rejects.toBeInstanceOf(TaskFinishedError);
    await expect(rejection).rejects.toMatchObject({ code: 'task_finished', taskId });
    expect((await historyOf(engine, taskId)).length).toBe(2);
    // start reopens the task
    expect((await reporter.notifyTaskStart(taskId)).offset).toBe(3);
  });

  it('broadcasts reach only the addressed user or project channel, and are not task events', async () => {
    const toUser = await watch(engine, userChannel(engine.prefix, 'user-123'));
    const toOtherUser = await watch(engine, userChannel(engine.prefix, 'user-999'));
    const toProject = await watch(engine, projectChannel(engine.prefix, 'project-789'));
    const toOtherProject = await watch(engine, projectChannel(engine.prefix, 'project-101'));

    await reporter.broadcastToUser('user-123', 'task-456', { progress: 50, message: '处理中...' });
    await reporter.broadcastToProject('project-789', 'task-456', { progress: 75, message: '即将完成' });
    await waitFor('both broadcasts', () => toUser.length === 1 && toProject.length === 1);
    // A later sentinel on the other channels proves the earlier broadcasts did not reach them.
    await reporter.broadcastToUser('user-999', 'sentinel', { progress: 1 });
    await reporter.broadcastToProject('project-101', 'sentinel', { progress: 1 });
    await waitFor('the sentinels', () => toOtherUser.length === 1 && toOtherProject.length === 1);

    expect(JSON.parse(toUser[0]!.toString())).toEqual({
      type: 'progress',
      task_id: 'task-456',
      scope: 'user',
      payload: {
        task_id: 'task-456',
        progress: 50,
        current_step: '',
        total_steps: 0,
        completed_steps: 0,
        message: '处理中...',
        status: 'running',
        timestamp: T0,
      },
    });
    expect(JSON.parse(toProject[0]!.toString())).toMatchObject({ scope: 'project', payload: { progress: 75, message: '即将完成' } });
    expect(JSON.parse(toOtherUser[0]!.toString()).task_id).toBe('sentinel');
    expect(JSON.parse(toOtherProject[0]!.toString()).task_id).toBe('sentinel');
    expect(live).toEqual([]);
    expect(await engine.latest('task-456')).toBeNull();
  });

  it('cleanupOldHistory delegates to the engine', async () => {
    await reporter.notifyTaskStart(taskId);
    expect(await reporter.cleanupOldHistory()).toBe(0);
    expect(await engine.latest(taskId)).not.toBeNull();
  });

  it('forTask binds the calls to one task and its owner', async () => {
    await reporter.notifyTaskStart(taskId, 'user-123', 'project-456');
    const task = reporter.forTask(taskId, { userId: 'user-123' });
    await task.step('下载视频', 1, 4, '正在下载视频...');
    await task.update(80, 'almost');
    const toUser = await watch(engine, userChannel(engine.prefix, 'user-123'));
    await task.broadcastToUser({ progress: 80 });
    await expect(task.broadcastToProject({ progress: 80 })).rejects.toMatchObject({
      name: 'ReporterInputError',
      field: 'project_id',
    });
    await waitFor('the user broadcast', () => toUser.length === 1);
    const history = await historyOf(engine, taskId);
    expect(history.slice(1).map((frame) => frame.payload.progress)).toEqual([25, 80]);
  });
});

describe('cleanupOldHistory on the memory engine', () => {
  it('drops tasks whose 24 h expiry passed', async () => {
    let now = Date.parse(T0);
    const engine = createMemoryEngine({ now: () => now });
    const reporter = createReporter(engine);
    await reporter.notifyTaskStart('old-task');
    now += 25 * 3600 * 1000;
    await reporter.notifyTaskStart('new-task');
    expect(await reporter.cleanupOldHistory()).toBe(1);
    expect(await engine.latest('old-task')).toBeNull();
    expect(await engine.latest('new-task')).not.toBeNull();
    await engine.close();
  });
});
