/** Contract cases for publishBatch: many events of many tasks in one call, each answered on its own. */
import { expect, it } from 'vitest';
import { EngineArgumentError, TaskFinishedError, type BatchEvent, type BatchPublishResult } from '../src/index';
import type { ContractContext } from './engine-contract';
import {
  completeEvent,
  ExpectedTask,
  offsetsOf,
  progressEvent,
  published,
  randomTaskId,
  range,
  recorder,
  startEvent,
} from './engine-test-helpers';
import { taskChannel } from '@taskpulse/protocol';

function publishedOf(result: BatchPublishResult | undefined) {
  if (result === undefined || result.status === 'error') throw new Error(`expected a published event, got ${result?.status}`);
  return published(result);
}

export function batchCases(ctx: ContractContext): void {
  it('publishes a batch of many tasks in array order, each frame as publish would write it', async () => {
    const engine = await ctx.engine();
    const tasks = range(1, 5).map(() => randomTaskId());
    const live = recorder();
    for (const taskId of tasks) await engine.subscribe(taskChannel(engine.prefix, taskId), live.listener);
    // interleaved: start of every task, then three progress rounds over all tasks
    const events: BatchEvent[] = [
      ...tasks.map((taskId) => ({ event: startEvent(taskId, 'u-1') })),
      ...range(1, 3).flatMap((round) => tasks.map((taskId) => ({ event: progressEvent(taskId, round * 10, { currentStep: `s${round}` }) }))),
    ];
    const results = await engine.publishBatch(events);
    expect(results).toHaveLength(events.length);
    const models = new Map(tasks.map((taskId) => [taskId, new ExpectedTask()]));
    results.forEach((result, i) => {
      const { event } = events[i]!;
      const done = publishedOf(result);
      expect(done.frame.equals(models.get(event.taskId)!.apply(event, done.offset, done.epoch))).toBe(true);
    });
    for (const taskId of tasks) {
      const mine = results.filter((_, i) => events[i]!.event.taskId === taskId).map(publishedOf);
      expect(mine.map((r) => r.offset)).toEqual([1, 2, 3, 4]);
      expect((await engine.history(taskId, 100))!.frames).toEqual(mine.map((r) => r.frame).reverse());
      expect((await engine.latest(taskId))!.fields).toEqual(models.get(taskId)!.fields);
    }
    await live.waitForCount(events.length);
    for (const taskId of tasks) {
      const received = live.frames.filter((_, i) => live.channels[i] === taskChannel(engine.prefix, taskId));
      expect(offsetsOf(received)).toEqual([1, 2, 3, 4]);
    }
  });

  it('answers each event on its own: a refused one does not stop the others, nor later events of its task', async () => {
    const engine = await ctx.engine();
    const [done, other] = [randomTaskId(), randomTaskId()];
    await engine.publish(startEvent(done));
    await engine.publish(completeEvent(done));
    const source = 'bullmq:batch';
    const results = await engine.publishBatch([
      { event: progressEvent(done, 10) },
      { event: progressEvent(other, 20), dedupe: { source, id: '5-0' } },
      { event: progressEvent(other, 30), dedupe: { source, id: '4-0' } },
      { event: progressEvent(other, 40), dedupe: { source, id: 'not-an-id' } },
      { event: startEvent(done) },
      { event: progressEvent(done, 50) },
    ]);
    expect(results.map((r) => r.status)).toEqual(['error', 'published', 'duplicate', 'error', 'published', 'published']);
    const [refused, , , badKey] = results as [Extract<BatchPublishResult, { status: 'error' }>, unknown, unknown, Extract<BatchPublishResult, { status: 'error' }>];
    expect(refused.error).toBeInstanceOf(TaskFinishedError);
    expect(refused.error).toMatchObject({ code: 'task_finished', taskId: done });
    expect(badKey.error).toBeInstanceOf(EngineArgumentError);
    expect(publishedOf(results[4]).offset).toBe(3);
    expect(publishedOf(results[5]).offset).toBe(4);
    expect((await engine.latest(other))!.offset).toBe(1);
    expect(await engine.publishBatch([])).toEqual([]);
  });

  it('applies calls made one after another without awaiting in call order', async () => {
    const engine = await ctx.engine();
    const taskId = randomTaskId();
    const first = engine.publish(startEvent(taskId));
    const batch = engine.publishBatch(range(1, 20).map((i) => ({ event: progressEvent(taskId, i) })));
    const last = engine.publish(completeEvent(taskId, { ok: true }));
    expect(published(await first).offset).toBe(1);
    expect((await batch).map((r) => publishedOf(r).offset)).toEqual(range(2, 21));
    expect(published(await last).offset).toBe(22);
  });

  it('answers a batch larger than one script run per item: tasks interleaved, a duplicate, a finished task', async () => {
    const engine = await ctx.engine();
    const tasks = range(1, 7).map(() => randomTaskId());
    const finished = tasks[0]!;
    await engine.publish(startEvent(finished));
    await engine.publish(completeEvent(finished));
    const live = recorder();
    for (const taskId of tasks) await engine.subscribe(taskChannel(engine.prefix, taskId), live.listener);
    const source = 'bullmq:big';
    // 35 rounds over 7 tasks (245 events, more than two runs of the Redis script); the second task's
    // events carry dedupe ids, and every fifth of them repeats the one before (a duplicate)
    const events: BatchEvent[] = range(1, 35).flatMap((round) =>
      tasks.map((taskId, t) => {
        const event = progressEvent(taskId, round);
        if (t !== 1) return { event };
        return { event, dedupe: { source, id: `${round % 5 === 0 ? round - 1 : round}-0` } };
      }),
    );
    const results = await engine.publishBatch(events);
    expect(results).toHaveLength(events.length);
    const expected = events.map(({ event, dedupe }, i) => {
      if (event.taskId === finished) return 'error';
      return dedupe && Math.floor(i / tasks.length + 1) % 5 === 0 ? 'duplicate' : 'published';
    });
    expect(results.map((r) => r.status)).toEqual(expected);
    for (const [i, result] of results.entries()) {
      if (result.status === 'error') expect(result.error).toBeInstanceOf(TaskFinishedError);
    }
    const models = new Map(tasks.map((taskId) => [taskId, new ExpectedTask()]));
    for (const [i, result] of results.entries()) {
      if (result.status !== 'published') continue;
      const { event } = events[i]!;
      expect(result.frame.equals(models.get(event.taskId)!.apply(event, result.offset, result.epoch))).toBe(true);
    }
    for (const taskId of tasks.slice(1)) {
      const mine = results.filter((r, i) => events[i]!.event.taskId === taskId && r.status === 'published').map(publishedOf);
      expect(mine.map((r) => r.offset)).toEqual(range(1, mine.length));
      const page = (await engine.history(taskId, 100))!;
      expect(page.frames).toEqual(mine.map((r) => r.frame).reverse());
      expect((await engine.latest(taskId))!.fields).toEqual(models.get(taskId)!.fields);
    }
    expect(results.filter((r, i) => events[i]!.event.taskId === tasks[1]).filter((r) => r.status === 'published')).toHaveLength(28);
    expect((await engine.latest(finished))!.offset).toBe(2);
    const stored = results.filter((r) => r.status === 'published').length;
    await live.waitForCount(stored);
    for (const taskId of tasks.slice(1)) {
      const received = live.frames.filter((_, i) => live.channels[i] === taskChannel(engine.prefix, taskId));
      expect(offsetsOf(received)).toEqual(range(1, received.length));
    }
    expect(live.frames).toHaveLength(stored);
  });
}
