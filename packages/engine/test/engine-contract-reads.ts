/** Contract cases for the two API reads: history as one joined JSON array text, and the frameless snapshot. */
import { expect, it } from 'vitest';
import type { ContractContext } from './engine-contract';
import {
  completeEvent,
  ExpectedTask,
  failEvent,
  joinedFrames,
  offsetsOf,
  progressEvent,
  publishChecked,
  randomTaskId,
  startEvent,
} from './engine-test-helpers';

/** Text that looks like frame boundaries, brackets and escapes: `items` must stay the stored bytes, valid JSON. */
const TRICKY = '},{"type":"progress","offset":1} ] [ \\"} \\\\ "{ 😀 ünï \u2028 \n';

export function readCases(ctx: ContractContext): void {
  it('joins history into one JSON array of the stored bytes, newest first, with the frames one by one', async () => {
    const engine = await ctx.engine();
    const taskId = randomTaskId();
    const frames = await publishChecked(engine, new ExpectedTask(), [
      startEvent(taskId, 'u-1', 'p-1'),
      progressEvent(taskId, 12.5, { message: TRICKY, currentStep: '"[{' }),
      progressEvent(taskId, 50, { message: '\\' }),
      completeEvent(taskId, [{ type: 'progress', offset: 9 }, { nested: [[], {}, [{ x: '},{' }]] }, TRICKY]),
    ]);
    const newestFirst = [...frames].reverse();
    const page = (await engine.history(taskId, 100))!;
    expect(page).toMatchObject({ offset: 4, count: 4, epoch: JSON.parse(frames[0]!.toString()).epoch });
    expect(page.items).toEqual(joinedFrames(newestFirst));
    expect(page.frames).toEqual(newestFirst);
    const parsed = JSON.parse(page.items.toString()) as Array<{ offset: number; payload: { message?: string; result?: unknown } }>;
    expect(parsed.map((frame) => frame.offset)).toEqual([4, 3, 2, 1]);
    expect(parsed[2]!.payload.message).toBe(TRICKY);
    expect(parsed[0]!.payload.result).toEqual([{ type: 'progress', offset: 9 }, { nested: [[], {}, [{ x: '},{' }]] }, TRICKY]);

    const two = (await engine.history(taskId, 2))!;
    expect(two.count).toBe(2);
    expect(two.items).toEqual(joinedFrames(newestFirst.slice(0, 2)));
    expect(offsetsOf(two.frames)).toEqual([4, 3]);
  });

  it('reads the snapshot without frames: the same fields, offset and epoch as latest', async () => {
    const engine = await ctx.engine();
    const taskId = randomTaskId();
    const model = new ExpectedTask();
    expect(await engine.snapshot(taskId)).toBeNull();
    const check = async (offset: number) => {
      const snapshot = await engine.snapshot(taskId);
      const { frames, ...rest } = (await engine.latest(taskId))!;
      expect(frames.length).toBeGreaterThan(0);
      expect(snapshot).toEqual(rest);
      expect(snapshot).toMatchObject({ taskId, offset });
      expect(Object.keys(snapshot!).sort()).toEqual(['epoch', 'fields', 'offset', 'taskId']);
      expect(Object.keys(snapshot!.fields).sort()).toEqual(Object.keys(model.fields).sort());
      expect(snapshot!.fields).toEqual(model.fields);
    };
    await publishChecked(engine, model, [startEvent(taskId, 'u-1', 'p-1')]);
    await check(1);
    await publishChecked(engine, model, [progressEvent(taskId, 40, { message: TRICKY, currentStep: 'encode', totalSteps: 3 })]);
    await check(2);
    await publishChecked(engine, model, [completeEvent(taskId, { ok: [1, '2'] })]);
    await check(3);
    await publishChecked(engine, model, [failEvent(taskId, 'disk full')]);
    await check(4);
    expect((await engine.snapshot(taskId))!.fields.result).toBeUndefined();
  });
}
