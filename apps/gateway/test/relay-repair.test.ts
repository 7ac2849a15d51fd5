/**
 * The task relay's repair (task-relay.ts) on the memory engine, whose link events a test plays: frames that
 * arrive while the link is "lost" or while the repair reads are held, then sent once, in order, after the
 * frames the repair read from history; nothing twice, nothing missing.
 */
import { describe, expect, it } from 'vitest';
import { waitFor, connectClient } from '@taskpulse/testkit';
import { openEngine } from '@taskpulse/testkit/engines';
import type { MemoryEngine } from '@taskpulse/engine';
import { closeAllAfterEach, startGateway } from './support/gateways';
import { instrument, progress, publish } from './support/engines';
import { taskChannel } from '@taskpulse/protocol';

closeAllAfterEach();

describe('task relay repair (memory engine)', () => {
  it('sends held live frames once, after the frames the repair read, in order', async () => {
    const inner = (await openEngine('memory')) as MemoryEngine;
    const engine = instrument(inner);
    const { wsUrl, gateway } = await startGateway({ engine });
    const taskId = 'task-relay';
    await publish(engine, { kind: 'start', taskId });
    const client = await connectClient(wsUrl('user_id=u1'));
    client.send({ action: 'subscribe', task_id: taskId, request_id: 's' });
    await client.next((f) => f.type === 'ack');
    for (let i = 1; i <= 5; i++) await publish(engine, progress(taskId, i)); // 2..6 live
    await waitFor('live frames', () => client.frames.some((f) => f.offset === 6));

    inner.simulateLink('lost');
    for (let i = 6; i <= 10; i++) await publish(engine, progress(taskId, i)); // 7..11 held
    await new Promise((r) => setTimeout(r, 50));
    expect(client.frames.some((f) => f.offset === 7)).toBe(false);

    const release = engine.holdReads();
    inner.simulateLink('restored');
    for (let i = 11; i <= 15; i++) await publish(engine, progress(taskId, i)); // 12..16 arrive during the repair read
    await new Promise((r) => setTimeout(r, 50));
    expect(client.frames.some((f) => f.offset === 7)).toBe(false);
    release();
    await publish(engine, { kind: 'complete', taskId }); // 17
    await waitFor('the terminal status', () => client.frames.some((f) => f.offset === 17));
    await new Promise((r) => setTimeout(r, 50));

    const offsets = client.taskFrames(taskId).filter((f) => f.type === 'progress' || f.type === 'status').map((f) => f.offset);
    const afterAck = offsets.slice(offsets.indexOf(2));
    expect(afterAck).toEqual(Array.from({ length: 16 }, (_, k) => 2 + k));
    const metric = await gateway.metrics.registry.getSingleMetric('taskpulse_gateway_channel_repairs_total')?.get();
    expect(metric?.values.find((v) => v.labels.result === 'recovered')?.value).toBe(1);
  });

  it('drops a frame the repair already sent when its PUBLISH reaches the subscriber link late', async () => {
    const engine = (await openEngine('memory')) as MemoryEngine;
    const { wsUrl } = await startGateway({ engine });
    const taskId = 'task-late';
    await publish(engine, { kind: 'start', taskId });
    const client = await connectClient(wsUrl('user_id=u1'));
    client.send({ action: 'subscribe', task_id: taskId, request_id: 's' });
    await client.next((f) => f.type === 'ack');
    engine.simulateLink('lost');
    for (let i = 1; i <= 3; i++) await publish(engine, progress(taskId, i)); // 2..4, held, then covered by the repair read
    engine.simulateLink('restored');
    await waitFor('the repaired frames', () => client.frames.some((f) => f.offset === 4));
    // Redis: the read over the command connection saw offset 4 before its PUBLISH arrived on the subscriber connection.
    const late = (await engine.replay(taskId, 3, 1))!.frames[0]!;
    await engine.broadcast(taskChannel(engine.prefix, taskId), late);
    await publish(engine, { kind: 'complete', taskId }); // 5
    await waitFor('the terminal status', () => client.frames.some((f) => f.offset === 5));
    await new Promise((r) => setTimeout(r, 50));
    const offsets = client.taskFrames(taskId).filter((f) => f.type === 'progress' || f.type === 'status').map((f) => f.offset);
    expect(offsets).toEqual([1, 2, 3, 4, 5]);
  });
});
