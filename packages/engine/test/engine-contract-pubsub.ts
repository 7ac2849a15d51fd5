/** Contract cases for channels, node reports, connection sessions and concurrent publishers. */
import { encodeBroadcastFrame, projectChannel, taskChannel, userChannel } from '@taskpulse/protocol';
import { waitFor } from '@taskpulse/testkit';
import { expect, it } from 'vitest';
import { EngineArgumentError, type Engine } from '../src/index';
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

export function pubSubAndNodeCases(ctx: ContractContext): void {
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

  it('sums node reports and forgets removed and expired nodes', async () => {
    const engine = await ctx.engine();
    await engine.reportNode({ nodeId: 'n1', total: 3, byUser: { a: 2, b: 1 }, byProject: { p: 3 } }, 60);
    await engine.reportNode({ nodeId: 'n2', total: 2, byUser: { a: 2 }, byProject: { p: 1, q: 1 } }, 60);
    await engine.reportNode({ nodeId: 'short', total: 7, byUser: { c: 7 }, byProject: {} }, 1);
    expect(await engine.connectionStats()).toEqual({
      total_clients: 12,
      by_user: { a: 4, b: 1, c: 7 },
      by_project: { p: 4, q: 1 },
      nodes: 3,
    });
    await engine.reportNode({ nodeId: 'n1', total: 1, byUser: { a: 1 }, byProject: { p: 1 } }, 60);
    await engine.removeNode('n2');
    await waitFor('the short-lived report to expire', async () => (await engine.connectionStats()).nodes === 1, 10_000, 100);
    expect(await engine.connectionStats()).toEqual({ total_clients: 1, by_user: { a: 1 }, by_project: { p: 1 }, nodes: 1 });
  });

  it('keeps a connection session until its ttl, replaces it on save, and refuses a bad ttl', async () => {
    const engine = await ctx.engine();
    expect(await engine.loadSession('c-unknown')).toBeNull();
    const full = {
      who: { userId: 'user-123', projectId: 'project-456', projects: ['p7', 'p8'], subject: 'sub-1' },
      tasks: { 'task-a': { offset: 12, epoch: 'e1a2b3c4d5e6' }, 'task.b:x': { offset: 0, epoch: '' } },
    };
    await engine.saveSession('c1', full, 60);
    await engine.saveSession('c2', { who: { userId: 'user-9' }, tasks: {} }, 0.3);
    expect(await engine.loadSession('c1')).toEqual(full);
    expect(await engine.loadSession('c2')).toEqual({ who: { userId: 'user-9' }, tasks: {} });
    // a save replaces the whole session: tasks no longer listed are gone
    await engine.saveSession('c1', { who: { projectId: 'p2' }, tasks: { 'task-c': { offset: 3, epoch: 'ee' } } }, 60);
    expect(await engine.loadSession('c1')).toEqual({ who: { projectId: 'p2' }, tasks: { 'task-c': { offset: 3, epoch: 'ee' } } });
    await waitFor('the short session to expire', async () => (await engine.loadSession('c2')) === null, 10_000, 50);
    for (const bad of [0, -1, Number.NaN]) {
      await expect(engine.saveSession('c3', { who: {}, tasks: {} }, bad)).rejects.toBeInstanceOf(EngineArgumentError);
    }
  });

  it('saves many sessions in one call and extends their ttl with touchSessions', async () => {
    const engine = await ctx.engine();
    const sessions = range(1, 50).map((i) => ({ clientId: `b${i}`, session: { who: { userId: `u${i}` }, tasks: { [`t${i}`]: { offset: i, epoch: 'ep' } } } }));
    await engine.saveSessions(sessions, 0.4);
    await engine.saveSessions([], 1);
    expect(await engine.loadSession('b7')).toEqual({ who: { userId: 'u7' }, tasks: { t7: { offset: 7, epoch: 'ep' } } });
    await engine.touchSessions(['b1', 'b2', 'b-unknown'], 60);
    await waitFor('the untouched sessions to expire', async () => (await engine.loadSession('b3')) === null, 10_000, 50);
    expect(await engine.loadSession('b1')).toEqual(sessions[0]!.session);
    expect(await engine.loadSession('b2')).toEqual(sessions[1]!.session);
    expect(await engine.loadSession('b-unknown')).toBeNull();
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
