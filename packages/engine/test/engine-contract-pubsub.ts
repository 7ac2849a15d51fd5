/** PubSub contract cases: task channels, registration counts, broadcasts, and concurrent publishers seen on a channel. */
import { encodeBroadcastFrame, projectChannel, taskChannel, userChannel } from '@taskpulse/protocol';
import { expect, it } from 'vitest';
import type { Engine } from '../src/index';
import type { ContractContext } from './engine-contract';
import { offsetsOf, progressEvent, published, randomTaskId, range, recorder, type Recorder } from './engine-test-helpers';

/**
 * Proves a recorder got nothing more: a sentinel frame sent after everything else on `channel` arrives
 * at `probe`; frames on one connection arrive in publish order, so anything earlier would have arrived.
 */
async function settle(engine: Engine, channel: string): Promise<void> {
  const probe = recorder();
  await engine.subscribe(channel, probe.listener);
  await engine.broadcast(channel, 'sentinel');
  await probe.waitForCount(1);
  await engine.unsubscribe(channel, probe.listener);
}

export function pubSubCases(ctx: ContractContext): void {
  it('delivers the published frame bytes to a task channel listener', async () => {
    const engine = await ctx.engine();
    const taskId = randomTaskId();
    const rec = recorder();
    await engine.subscribe(taskChannel(engine.prefix, taskId), rec.listener);
    const result = published(await engine.publish(progressEvent(taskId, 42, { message: 'héllo "you"' })));
    await rec.waitForCount(1);
    expect(rec.frames[0]).toEqual(result.frame);
    expect(rec.channels).toEqual([taskChannel(engine.prefix, taskId)]);
  });

  it('counts registrations: a channel is left only when its last registration goes', async () => {
    const engine = await ctx.engine();
    const taskId = randomTaskId();
    const channel = taskChannel(engine.prefix, taskId);
    const rec = recorder();
    await engine.subscribe(channel, rec.listener);
    await engine.subscribe(channel, rec.listener);
    await engine.unsubscribe(channel, rec.listener);
    await engine.publish(progressEvent(taskId, 1));
    await rec.waitForCount(1);
    await engine.unsubscribe(channel, rec.listener);
    await engine.publish(progressEvent(taskId, 2));
    await settle(engine, `${engine.prefix}:elsewhere`);
    await settle(engine, channel);
    expect(offsetsOf(rec.frames)).toEqual([1]);
  });

  it('calls two different listeners on one channel once each', async () => {
    const engine = await ctx.engine();
    const taskId = randomTaskId();
    const channel = taskChannel(engine.prefix, taskId);
    const [first, second] = [recorder(), recorder()];
    await engine.subscribe(channel, first.listener);
    await engine.subscribe(channel, second.listener);
    await engine.publish(progressEvent(taskId, 1));
    await Promise.all([first.waitForCount(1), second.waitForCount(1)]);
    await engine.unsubscribe(channel, first.listener);
    await engine.publish(progressEvent(taskId, 2));
    await second.waitForCount(2);
    await settle(engine, channel);
    expect(offsetsOf(first.frames)).toEqual([1]);
    expect(second.frames.map(String).slice(2)).toEqual(['sentinel']);
    expect(offsetsOf(second.frames.slice(0, 2))).toEqual([1, 2]);
  });

  it('broadcasts to the user channel listeners only', async () => {
    const engine = await ctx.engine();
    const channels = {
      user: userChannel(engine.prefix, 'u-1'),
      otherUser: userChannel(engine.prefix, 'u-2'),
      project: projectChannel(engine.prefix, 'u-1'),
      task: taskChannel(engine.prefix, 'u-1'),
    };
    const recs = Object.fromEntries(Object.keys(channels).map((k) => [k, recorder()])) as Record<keyof typeof channels, Recorder>;
    for (const [key, channel] of Object.entries(channels)) await engine.subscribe(channel, recs[key as keyof typeof channels].listener);
    const frame = encodeBroadcastFrame('user', 'task-1', { progress: 30, message: 'nearly there' });
    expect(await engine.broadcast(channels.user, frame)).toBe(1);
    await recs.user.waitForCount(1);
    expect(recs.user.frames[0]).toEqual(Buffer.from(frame));
    for (const key of ['otherUser', 'project', 'task'] as const) {
      await engine.broadcast(channels[key], `only-${key}`);
      await recs[key].waitForCount(1);
      expect(recs[key].frames.map(String)).toEqual([`only-${key}`]);
    }
    expect(await engine.broadcast(`${engine.prefix}:u:nobody`, frame)).toBe(0);
  });

  it('gives 200 concurrent publishers on one task offsets 1..200, each once, agreeing everywhere', async () => {
    const engine = await ctx.engine();
    const taskId = randomTaskId();
    const rec = recorder();
    await engine.subscribe(taskChannel(engine.prefix, taskId), rec.listener);
    const results = (await Promise.all(range(1, 200).map((i) => engine.publish(progressEvent(taskId, i / 2))))).map(published);
    expect(results.map((r) => r.offset).sort((a, b) => a - b)).toEqual(range(1, 200));
    const byOffset = new Map(results.map((r) => [r.offset, r.frame]));
    await rec.waitForCount(200);
    expect(offsetsOf(rec.frames)).toEqual(range(1, 200));
    rec.frames.forEach((frame, i) => expect(frame).toEqual(byOffset.get(i + 1)));
    const page = (await engine.history(taskId, 100))!;
    expect(page.frames).toEqual(range(101, 200).reverse().map((offset) => byOffset.get(offset)));
    const state = (await engine.latest(taskId))!;
    expect(state.offset).toBe(200);
    const newest = JSON.parse(byOffset.get(200)!.toString());
    expect(JSON.parse(state.fields.progress!)).toBe(newest.payload.progress);
    expect(state.frames).toEqual([byOffset.get(200)]);
  });
}
