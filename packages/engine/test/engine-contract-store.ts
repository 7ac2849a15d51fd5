/** Contract cases for storing and reading task events: offsets, frames, snapshots, history, replay, stats. */
import { LIMITS, type ProgressFrame, type StatusFrame } from '@taskpulse/protocol';
import { expect, it } from 'vitest';
import { EngineArgumentError, TaskFinishedError } from '../src/index';
import type { ContractContext } from './engine-contract';
import {
  cancelEvent,
  completeEvent,
  ExpectedTask,
  failEvent,
  joinedFrames,
  offsetsOf,
  progressEvent,
  publishChecked,
  published,
  randomTaskId,
  range,
  startEvent,
} from './engine-test-helpers';

const PROGRESS_KEYS = ['task_id', 'progress', 'current_step', 'total_steps', 'completed_steps', 'message', 'status', 'timestamp'];

export function storeCases(ctx: ContractContext): void {
  it('gives a task offsets 1, 2, 3 in one epoch', async () => {
    const engine = await ctx.engine();
    const taskId = randomTaskId();
    const results = [];
    for (const event of [startEvent(taskId), progressEvent(taskId, 10), progressEvent(taskId, 20)]) {
      results.push(published(await engine.publish(event)));
    }
    expect(results.map((r) => r.offset)).toEqual([1, 2, 3]);
    expect(new Set(results.map((r) => r.epoch)).size).toBe(1);
    expect(results[0]!.epoch).toMatch(/^[a-z0-9]{12}$/);
  });

  it('writes frames byte-identical to protocol\'s fillTaskFrame, with the guide field names', async () => {
    const engine = await ctx.engine();
    const taskId = randomTaskId();
    const model = new ExpectedTask();
    const events = [
      startEvent(taskId, 'u-1', 'p-1'),
      progressEvent(taskId, 50, { currentStep: '视频转码', completedSteps: 2, totalSteps: 4, message: '正在转码视频...' }),
      completeEvent(taskId, { video_url: 'https://example.com/video.mp4' }),
    ];
    const [, progressBytes, statusBytes] = await publishChecked(engine, model, events);
    const progress = JSON.parse(progressBytes!.toString()) as ProgressFrame;
    expect(Object.keys(progress)).toEqual(['type', 'task_id', 'offset', 'epoch', 'published_at', 'payload']);
    expect(Object.keys(progress.payload)).toEqual(PROGRESS_KEYS);
    expect(progress).toMatchObject({ type: 'progress', task_id: taskId, offset: 2 });
    expect(progress.payload).toEqual({
      task_id: taskId,
      progress: 50,
      current_step: '视频转码',
      total_steps: 4,
      completed_steps: 2,
      message: '正在转码视频...',
      status: 'running',
      timestamp: '2026-02-21T10:30:00.000Z',
    });
    const status = JSON.parse(statusBytes!.toString()) as StatusFrame;
    expect(Object.keys(status.payload)).toEqual(['task_id', 'status', 'result', 'timestamp']);
    expect(status).toMatchObject({ type: 'status', task_id: taskId, offset: 3, epoch: progress.epoch });
    expect(status.payload).toEqual({
      task_id: taskId,
      status: 'completed',
      result: { video_url: 'https://example.com/video.mp4' },
      timestamp: '2026-02-21T10:30:00.000Z',
    });
  });

  it('fills the fields an event leaves as they were from the stored snapshot, byte for byte, with or without dedupe', async () => {
    const engine = await ctx.engine();
    const taskId = randomTaskId();
    const model = new ExpectedTask();
    // no start: the first progress takes the fallbacks for what it does not set
    await publishChecked(engine, model, [progressEvent(taskId, 5, { message: undefined })]);
    await publishChecked(engine, model, [
      progressEvent(taskId, 10, { currentStep: 'download', completedSteps: 0, totalSteps: 3 }),
      progressEvent(taskId, 20, { message: undefined }),
      progressEvent(taskId, 30, { totalSteps: 4 }),
      progressEvent(taskId, 40, { currentStep: 'encode "x"', completedSteps: 1 }),
    ]);
    let id = 0;
    for (const event of [progressEvent(taskId, 50), progressEvent(taskId, 60, { completedSteps: 2 }), completeEvent(taskId, [1])]) {
      id += 1;
      const result = published(await engine.publish(event, { dedupe: { source: 'bullmq:fill', id: `${id}-0` } }));
      expect(result.frame).toEqual(model.apply(event, result.offset, result.epoch));
    }
    const last = JSON.parse((await engine.latest(taskId))!.frames[0]!.toString()).payload;
    expect(last).toMatchObject({ progress: 60, current_step: 'encode "x"', total_steps: 4, completed_steps: 2, message: 'at 60' });
    expect((await engine.snapshot(taskId))!.fields).toEqual(model.fields);
  });

  it('keeps unicode, escapes and nested results byte for byte', async () => {
    const engine = await ctx.engine();
    const taskId = randomTaskId();
    const message = 'ünïcödé 😀 "quoted" back\\slash\nnew line\ttab \u2028 \u0001 </script>';
    const result = { nested: { list: [1, 2.5, null, true, { deep: 'x"y\\z' }], empty: {} }, 'ключ': '值' };
    const frames = await publishChecked(engine, new ExpectedTask(), [
      progressEvent(taskId, 33.3, { message, currentStep: 'step "1"' }),
      completeEvent(taskId, result),
    ]);
    expect(JSON.parse(frames[0]!.toString()).payload.message).toBe(message);
    expect(JSON.parse(frames[1]!.toString()).payload.result).toEqual(result);
  });

  it('keeps the snapshot through start, progress, complete, fail, cancel and a restart', async () => {
    const engine = await ctx.engine();
    const taskId = randomTaskId();
    const model = new ExpectedTask();
    const snapshot = async () => (await engine.latest(taskId))!.fields;

    await publishChecked(engine, model, [startEvent(taskId, 'u-1', 'p-1')]);
    expect(await snapshot()).toEqual({
      status: '"running"',
      progress: '0',
      current_step: '""',
      total_steps: '0',
      completed_steps: '0',
      message: '""',
      timestamp: '"2026-02-21T10:30:00.000Z"',
      user_id: '"u-1"',
      project_id: '"p-1"',
    });
    await publishChecked(engine, model, [progressEvent(taskId, 40, { currentStep: 'encode', completedSteps: 1, totalSteps: 3 })]);
    expect(await snapshot()).toMatchObject({ progress: '40', current_step: '"encode"', completed_steps: '1', total_steps: '3', message: '"at 40"' });
    await publishChecked(engine, model, [completeEvent(taskId, { ok: 1 })]);
    expect(await snapshot()).toMatchObject({ status: '"completed"', progress: '100', result: '{"ok":1}' });
    await publishChecked(engine, model, [failEvent(taskId, 'disk full')]);
    expect(await snapshot()).toMatchObject({ status: '"failed"', error: '"disk full"' });
    expect((await snapshot()).result).toBeUndefined();
    await publishChecked(engine, model, [cancelEvent(taskId, 'user asked')]);
    expect(await snapshot()).toMatchObject({ status: '"cancelled"', error: '"user asked"' });
    await publishChecked(engine, model, [startEvent(taskId)]);
    const restarted = await snapshot();
    expect(restarted).toMatchObject({ status: '"running"', progress: '0', user_id: '"u-1"' });
    expect(restarted.error).toBeUndefined();
    expect(restarted).toEqual(model.fields);
  });

  for (const finish of ['complete', 'fail', 'cancel'] as const) {
    it(`refuses progress after ${finish} with TaskFinishedError and writes nothing; start reopens`, async () => {
      const engine = await ctx.engine();
      const taskId = randomTaskId();
      const model = new ExpectedTask();
      const finishing = { complete: completeEvent(taskId), fail: failEvent(taskId, 'boom'), cancel: cancelEvent(taskId) }[finish];
      await publishChecked(engine, model, [startEvent(taskId), progressEvent(taskId, 10), finishing]);
      const before = await engine.latest(taskId);
      const refused = engine.publish(progressEvent(taskId, 90));
      await expect(refused).rejects.toBeInstanceOf(TaskFinishedError);
      await expect(refused).rejects.toMatchObject({ code: 'task_finished', taskId });
      expect(await engine.latest(taskId)).toEqual(before);
      expect((await engine.history(taskId, 100))!.frames).toHaveLength(3);
      const [, again] = await publishChecked(engine, model, [startEvent(taskId), progressEvent(taskId, 5)]);
      expect(JSON.parse(again!.toString()).offset).toBe(5);
    });
  }

  it('returns history newest first, at most 100 entries, limit 0 empty, limit 101 refused', async () => {
    const engine = await ctx.engine();
    const taskId = randomTaskId();
    const frames = await publishChecked(engine, new ExpectedTask(), range(1, 150).map((i) => progressEvent(taskId, i % 100)));
    const page = (await engine.history(taskId, 100))!;
    expect(page).toMatchObject({ offset: 150, count: 100 });
    expect(page.items).toEqual(joinedFrames(frames.slice(50).reverse()));
    expect(offsetsOf(page.frames)).toEqual(range(51, 150).reverse());
    expect(page.frames).toEqual(frames.slice(50).reverse());
    const three = (await engine.history(taskId, 3))!;
    expect(three.count).toBe(3);
    expect(three.items).toEqual(joinedFrames(frames.slice(-3).reverse()));
    expect(offsetsOf(three.frames)).toEqual([150, 149, 148]);
    const empty = (await engine.history(taskId, 0))!;
    expect(empty).toEqual({ offset: 150, epoch: page.epoch, count: 0, items: Buffer.from('[]'), frames: [] });
    for (const bad of [101, -1, 1.5]) {
      await expect(engine.history(taskId, bad)).rejects.toBeInstanceOf(EngineArgumentError);
    }
    expect(await engine.history(randomTaskId(), 10)).toBeNull();
    expect(LIMITS.historyEntries).toBe(100);
  });

  it('replays oldest first and says whether the replay is complete', async () => {
    const engine = await ctx.engine();
    const taskId = randomTaskId();
    const frames = await publishChecked(engine, new ExpectedTask(), range(1, 3).map((i) => progressEvent(taskId, i)));
    const all = (await engine.replay(taskId, 0, 100))!;
    expect(all).toMatchObject({ offset: 3, complete: true });
    expect(all.frames).toEqual(frames);
    const limited = (await engine.replay(taskId, 1, 1))!;
    expect(offsetsOf(limited.frames)).toEqual([2]);
    expect(limited.complete).toBe(true);
    expect(await engine.replay(taskId, 0, 0)).toMatchObject({ frames: [], complete: true });
    expect(await engine.replay(taskId, 3, 10)).toMatchObject({ frames: [], complete: true });
    await expect(engine.replay(taskId, 0, 101)).rejects.toBeInstanceOf(EngineArgumentError);
    await expect(engine.replay(taskId, -1, 10)).rejects.toBeInstanceOf(EngineArgumentError);
    expect(await engine.replay(randomTaskId(), 0, 10)).toBeNull();
  });

  it('says a replay is incomplete once the history no longer reaches back', async () => {
    const engine = await ctx.engine();
    const taskId = randomTaskId();
    await publishChecked(engine, new ExpectedTask(), range(1, 150).map((i) => progressEvent(taskId, i % 100)));
    const gap = (await engine.replay(taskId, 10, 100))!;
    expect(gap.complete).toBe(false);
    expect(offsetsOf(gap.frames)).toEqual(range(51, 150));
    expect((await engine.replay(taskId, 49, 5))!.complete).toBe(false);
    expect((await engine.replay(taskId, 10, 0))!.complete).toBe(false);
    const edge = (await engine.replay(taskId, 50, 5))!;
    expect(edge.complete).toBe(true);
    expect(offsetsOf(edge.frames)).toEqual([51, 52, 53, 54, 55]);
    expect(await engine.replay(taskId, 150, 5)).toMatchObject({ frames: [], complete: true, offset: 150 });
  });

  it('gives the newest status and progress frames in offset order as latest', async () => {
    const engine = await ctx.engine();
    const taskId = randomTaskId();
    const [start, , p3] = await publishChecked(engine, new ExpectedTask(), [
      startEvent(taskId),
      progressEvent(taskId, 10),
      progressEvent(taskId, 20),
    ]);
    const state = (await engine.latest(taskId))!;
    expect(state).toMatchObject({ taskId, offset: 3 });
    expect(state.frames).toEqual([start, p3]);
    const model = new ExpectedTask();
    model.fields = { ...state.fields };
    const [done] = await publishChecked(engine, model, [completeEvent(taskId)]);
    expect((await engine.latest(taskId))!.frames).toEqual([p3, done]);
    expect(await engine.latest(randomTaskId())).toBeNull();
  });

  it('skips events from an ordered source that are not newer (dedupe)', async () => {
    const engine = await ctx.engine();
    const taskId = randomTaskId();
    const source = 'bullmq:videos';
    const send = (id: string, progress: number, src = source) => engine.publish(progressEvent(taskId, progress), { dedupe: { source: src, id } });
    expect((await send('9-0', 1)).status).toBe('published');
    expect(await send('9-0', 2)).toEqual({ status: 'duplicate' });
    expect((await send('10-0', 3)).status).toBe('published'); // numerically newer, though "10" < "9" as text
    expect(await send('9-5', 4)).toEqual({ status: 'duplicate' });
    expect(await send('10-0', 5)).toEqual({ status: 'duplicate' });
    expect((await send('10-1', 6)).status).toBe('published');
    expect((await send('1-0', 7, 'bullmq:other')).status).toBe('published');
    const page = (await engine.history(taskId, 100))!;
    expect(page.frames).toHaveLength(4);
    expect(page.offset).toBe(4);
    expect(JSON.parse((await engine.latest(taskId))!.fields.progress!)).toBe(7);
    await expect(send('not-an-id', 8)).rejects.toBeInstanceOf(EngineArgumentError);
    await expect(engine.publish(progressEvent(taskId, 9), { dedupe: { source: '', id: '11-0' } })).rejects.toBeInstanceOf(EngineArgumentError);
  });

  it('counts tasks by status', async () => {
    const engine = await ctx.engine();
    const [a, b, c, d, e] = range(1, 5).map(() => randomTaskId()) as [string, string, string, string, string];
    await engine.publish(startEvent(a));
    await engine.publish(completeEvent(b));
    await engine.publish(failEvent(c, 'x'));
    await engine.publish(cancelEvent(d));
    await engine.publish(startEvent(e));
    await engine.publish(progressEvent(e, 50));
    expect(await engine.stats()).toEqual({
      tasks: 5,
      by_status: { pending: 0, running: 2, completed: 1, failed: 1, cancelled: 1 },
    });
    await engine.publish(completeEvent(a));
    await engine.publish(startEvent(b));
    expect(await engine.stats()).toEqual({
      tasks: 5,
      by_status: { pending: 0, running: 2, completed: 1, failed: 1, cancelled: 1 },
    });
    await engine.publish(completeEvent(e));
    expect((await engine.stats()).by_status).toMatchObject({ running: 1, completed: 2 });
    expect(await engine.cleanupOldHistory()).toBe(0);
  });
}
