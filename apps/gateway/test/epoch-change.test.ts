/**
 * A task's history lost on a live Redis (FLUSHALL, no link loss): the next event starts a new epoch at
 * offset 1. Sockets on the topic must be told with a `resync` ack (`recovered: false`, the new epoch,
 * offset 0) right before that frame, exactly once per task, then get the new epoch's frames in order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { waitFor, type Frame } from '@taskpulse/testkit';
import { closeAll } from './support/gateways';
import { progress, publish } from './support/engines';
import { privateRedisGateway, stopPrivateRedis } from './support/private-redis-gateway';

afterEach(async () => {
  await closeAll();
  await stopPrivateRedis();
});

const TASKS = ['task-x', 'task-y'];
const isResync = (f: Frame) => f.type === 'ack' && f.action === 'resync';

describe('epoch change on a live Redis', () => {
  it('sends a resync ack before the first frame of the new epoch, once per task and socket', async () => {
    const { server, gateway, publisher, clients } = await privateRedisGateway(TASKS, 2);
    for (let n = 1; n <= 3; n++) for (const taskId of TASKS) await publish(publisher, progress(taskId, n));
    const oldEpochs = new Map<string, string>();
    for (const taskId of TASKS) oldEpochs.set(taskId, (await clients[0]!.next((f) => f.task_id === taskId && f.offset === 4)).epoch);

    const admin = new Redis(server.url);
    try {
      await admin.flushall();
    } finally {
      admin.disconnect();
    }
    const newEpochs = new Map<string, string>();
    for (const taskId of TASKS) newEpochs.set(taskId, (await publish(publisher, { kind: 'start', taskId })).epoch);
    for (let n = 1; n <= 3; n++) for (const taskId of TASKS) await publish(publisher, progress(taskId, n));
    for (const taskId of TASKS) await publish(publisher, { kind: 'complete', taskId });

    for (const client of clients) {
      for (const taskId of TASKS) {
        const epoch = newEpochs.get(taskId)!;
        const oldEpoch = oldEpochs.get(taskId)!;
        expect(epoch).not.toBe(oldEpoch);
        await waitFor(`${taskId} completed`, () => client.taskFrames(taskId).some((f) => f.type === 'status' && f.payload.status === 'completed'));
        const frames = client.taskFrames(taskId);
        const ackAt = frames.findIndex((f) => f.type === 'ack' && f.action === 'subscribe');
        const after = frames.slice(ackAt + 1);
        const resyncs = after.filter(isResync);
        expect(resyncs).toEqual([{ type: 'ack', action: 'resync', task_id: taskId, payload: { recovered: false, offset: 0, epoch } }]);
        const at = after.findIndex(isResync);
        // old epoch 2..4 (start was 1, in the state), then the notice, then the new epoch 1..5
        expect(after.slice(0, at).map((f) => [f.epoch, f.offset])).toEqual([2, 3, 4].map((o) => [oldEpoch, o]));
        expect(after.slice(at + 1).map((f) => [f.epoch, f.offset])).toEqual([1, 2, 3, 4, 5].map((o) => [epoch, o]));
      }
    }
    const metric = await gateway.gateway.metrics.registry.getSingleMetric('taskpulse_gateway_live_epoch_changes_total')?.get();
    expect(metric?.values[0]?.value).toBe(TASKS.length);
  });
});
