/**
 * Slow consumers conflate (slow-sockets.ts): a client whose TCP reader is paused while a task floods
 * keeps its connection, and once it reads again gets every status, the newest progress of each task,
 * broadcasts in order, and increasing offsets; a healthy client beside it gets every frame.
 */
import { describe, expect, it } from 'vitest';
import { waitFor, connectClient, type Frame, type TestClient } from '@taskpulse/testkit';
import { ENGINE_MATRIX } from '@taskpulse/testkit/engines';
import { encodeBroadcastFrame, userChannel } from '@taskpulse/protocol';
import { closeAllAfterEach, startGateway } from './support/gateways';
import { instrument, progress, publish } from './support/engines';

closeAllAfterEach();

type RawSocket = { pause(): void; resume(): void };
const rawSocket = (client: TestClient) => (client.ws as unknown as { _socket: RawSocket })._socket;

/** The task events of one task a client received, in order. */
function events(client: TestClient, taskId: string): Frame[] {
  return client.taskFrames(taskId).filter((f) => (f.type === 'progress' || f.type === 'status') && f.scope === undefined);
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.slice(name.length + 1));
}

describe.each(ENGINE_MATRIX)('slow consumers ($name engine)', (backend) => {
  it('conflates progress for a paused reader, never a status or a broadcast, and rejoins the topics once it reads', async () => {
    const engine = instrument(await backend.open());
    const { wsUrl, httpUrl, gateway } = await startGateway({
      engine,
      limits: { maxBackpressureBytes: 8 << 20, softBackpressureBytes: 16 * 1024, backpressureCheckMs: 20 },
    });
    const metrics = httpUrl('/metrics');
    const [a, b] = ['task-slow-a', 'task-slow-b'];
    await publish(engine, { kind: 'start', taskId: a });
    await publish(engine, { kind: 'start', taskId: b });
    const stalled = await connectClient(wsUrl('user_id=u1'));
    const healthy = await connectClient(wsUrl('user_id=u1'));
    for (const client of [stalled, healthy]) {
      for (const taskId of [a, b]) {
        client.send({ action: 'subscribe', task_id: taskId, request_id: taskId });
        await client.next((f) => f.request_id === taskId);
      }
    }
    await publish(engine, progress(a, 0));
    await publish(engine, progress(b, 0));
    await stalled.next((f) => f.task_id === b && f.offset === 2); // delivered by topic from here on
    rawSocket(stalled).pause();

    const big = 'x'.repeat(2000);
    const published: Record<string, number[]> = { [a]: [1, 2], [b]: [1, 2] };
    const flood = async (taskIds: string[], rounds: number) => {
      for (let round = 0; round < rounds; round++) {
        const results = await Promise.all(
          Array.from({ length: 40 }, (_, i) => {
            const taskId = taskIds[i % taskIds.length]!;
            return publish(engine, progress(taskId, i, big)).then((r) => ({ taskId, offset: r.offset }));
          }),
        );
        for (const { taskId, offset } of results) published[taskId]!.push(offset);
        await new Promise((r) => setImmediate(r));
      }
    };
    // Until the kernel buffers are full and the gateway conflates (bounded: at most 600 rounds of 40 frames).
    for (let i = 0; i < 600 && (await metric(metrics, 'taskpulse_gateway_conflated_frames_total')) < 50; i++) await flood([a, b], 1);
    expect(await metric(metrics, 'taskpulse_gateway_slow_sockets')).toBe(1);

    // A status and a broadcast in the middle of the flood, then more progress, then the last status.
    published[a]!.push((await publish(engine, { kind: 'complete', taskId: a, result: { ok: true } })).offset);
    await engine.broadcast(userChannel(engine.prefix, 'u1'), encodeBroadcastFrame('user', a, { progress: 100, message: 'mid', timestamp: '2026-12-03T07:00:00Z' }));
    await flood([b], 20);
    const lastProgressB = published[b]!.at(-1)!;
    published[b]!.push((await publish(engine, { kind: 'complete', taskId: b, result: { ok: true } })).offset);
    expect(gateway.connectionCount()).toBe(2);

    rawSocket(stalled).resume();
    await stalled.next((f) => f.task_id === b && f.type === 'status' && f.payload.status === 'completed', 20_000);
    await healthy.next((f) => f.task_id === b && f.type === 'status' && f.payload.status === 'completed', 20_000);

    for (const taskId of [a, b]) {
      // The healthy client got everything, in order.
      expect(events(healthy, taskId).map((f) => f.offset)).toEqual(published[taskId]);
      // The stalled one: increasing offsets, gaps only where progress was conflated, every status, the newest progress.
      const got = events(stalled, taskId);
      const offsets = got.map((f) => f.offset);
      expect(offsets).toEqual([...offsets].sort((x, y) => x - y));
      expect(new Set(offsets).size).toBe(offsets.length);
      expect(offsets.every((o) => published[taskId]!.includes(o))).toBe(true);
      expect(got.at(-1)).toMatchObject({ type: 'status', payload: { status: 'completed' } });
      // A frame after a gap says so, and is a progress frame; one without a gap before it does not.
      const all = published[taskId]!;
      got.forEach((frame, i) => {
        const gap = i > 0 && all.indexOf(frame.offset) > all.indexOf(got[i - 1]!.offset) + 1;
        expect(frame.conflated).toBe(gap ? true : undefined);
        if (gap) expect(frame.type).toBe('progress');
      });
      expect(new Set(got.map((f) => f.epoch)).size).toBe(1);
    }
    expect(events(stalled, b).at(-2)!.offset).toBe(lastProgressB);
    const missed = published[a]!.length + published[b]!.length - events(stalled, a).length - events(stalled, b).length;
    expect(missed).toBeGreaterThan(0);
    expect(await metric(metrics, 'taskpulse_gateway_conflated_frames_total')).toBe(missed);
    expect(stalled.frames.filter((f) => f.scope === 'user').map((f) => f.payload.message)).toEqual(['mid']);
    // The broadcast came after task A's completed status, as published.
    const indexOf = (match: (f: Frame) => boolean) => stalled.frames.findIndex(match);
    expect(indexOf((f) => f.scope === 'user')).toBeGreaterThan(indexOf((f) => f.task_id === a && f.type === 'status' && f.payload.status === 'completed'));

    // Drained: back on the topics, so a new broadcast arrives exactly once.
    await waitFor('back on the topics', async () => (await metric(metrics, 'taskpulse_gateway_slow_sockets')) === 0, 5000);
    await engine.broadcast(userChannel(engine.prefix, 'u1'), encodeBroadcastFrame('user', a, { progress: 100, message: 'after', timestamp: '2026-12-03T07:00:01Z' }));
    await stalled.next((f) => f.payload?.message === 'after');
    await healthy.next((f) => f.payload?.message === 'after');
    await new Promise((r) => setTimeout(r, 50));
    expect(stalled.frames.filter((f) => f.scope === 'user').map((f) => f.payload.message)).toEqual(['mid', 'after']);
    expect(await metric(metrics, 'taskpulse_gateway_slow_consumer_closes_total')).toBe(0);
  });

  it('subscribes and unsubscribes a socket while it is slow, exactly: state, ack, then newer frames only', async () => {
    const engine = instrument(await backend.open());
    const { wsUrl, httpUrl } = await startGateway({
      engine,
      limits: { maxBackpressureBytes: 8 << 20, softBackpressureBytes: 16 * 1024, backpressureCheckMs: 20 },
    });
    const [a, c, d] = ['task-busy', 'task-late', 'task-dropped'];
    for (const taskId of [a, c, d]) await publish(engine, { kind: 'start', taskId });
    await publish(engine, progress(c, 1));
    const client = await connectClient(wsUrl());
    for (const taskId of [a, d]) {
      client.send({ action: 'subscribe', task_id: taskId, request_id: taskId });
      await client.next((f) => f.request_id === taskId);
    }
    rawSocket(client).pause();
    const big = 'x'.repeat(2000);
    for (let i = 0; i < 600 && (await metric(httpUrl('/metrics'), 'taskpulse_gateway_conflated_frames_total')) < 20; i++) {
      await Promise.all(Array.from({ length: 40 }, (_, k) => publish(engine, progress(a, k, big))));
    }
    expect(await metric(httpUrl('/metrics'), 'taskpulse_gateway_slow_sockets')).toBe(1);

    // While slow: subscribe to c (its state and ack queue behind what waits), leave d.
    client.send({ action: 'subscribe', task_id: c, request_id: 'late' });
    client.send({ action: 'unsubscribe', task_id: d, request_id: 'drop' });
    await waitFor('the subscribe reached the socket', () => engine.registrations() >= 3);
    await new Promise((r) => setTimeout(r, 100));
    const late: number[] = [];
    for (let i = 2; i < 8; i++) late.push((await publish(engine, progress(c, i))).offset);
    late.push((await publish(engine, { kind: 'complete', taskId: c })).offset);
    await publish(engine, progress(d, 5));
    await publish(engine, { kind: 'complete', taskId: a });

    rawSocket(client).resume();
    await client.next((f) => f.task_id === a && f.type === 'status' && f.payload.status === 'completed', 20_000);
    await client.next((f) => f.task_id === c && f.type === 'status' && f.payload.status === 'completed', 20_000);
    const frames = client.taskFrames(c);
    const ackAt = frames.findIndex((f) => f.request_id === 'late');
    expect(ackAt).toBeGreaterThan(0);
    // The state (the newest status and progress) before the ack, newer frames after it, each once, in order.
    const offsets = events(client, c).map((f) => f.offset);
    expect(offsets).toEqual([...new Set(offsets)].sort((x, y) => x - y));
    expect(offsets.at(-1)).toBe(late.at(-1));
    expect(frames.slice(ackAt + 1).every((f) => f.offset > frames[ackAt - 1]!.offset)).toBe(true);
    // Nothing of d after its unsubscribe ack.
    const dFrames = client.taskFrames(d);
    const dropAt = dFrames.findIndex((f) => f.request_id === 'drop');
    expect(dropAt).toBeGreaterThan(0);
    expect(dFrames.slice(dropAt + 1)).toEqual([]);
    await waitFor('back on the topics', async () => (await metric(httpUrl('/metrics'), 'taskpulse_gateway_slow_sockets')) === 0, 5000);
  });

  it('still closes with 4000 a slow socket whose waiting broadcasts pass the hard limit', async () => {
    const engine = instrument(await backend.open());
    const { wsUrl, httpUrl, gateway } = await startGateway({
      engine,
      limits: { maxBackpressureBytes: 256 * 1024, softBackpressureBytes: 16 * 1024, backpressureCheckMs: 20 },
    });
    const client = await connectClient(wsUrl('user_id=u9'));
    rawSocket(client).pause();
    const frame = encodeBroadcastFrame('user', 'task-x', { progress: 1, message: 'y'.repeat(2000), timestamp: '2026-12-03T07:00:00Z' });
    let sawSlow = false;
    // Paced below one check interval's worth of the gap between the limits, so the socket goes slow first.
    for (let i = 0; i < 1000 && gateway.connectionCount() > 0; i++) {
      await Promise.all(Array.from({ length: 20 }, () => engine.broadcast(userChannel(engine.prefix, 'u9'), frame)));
      await new Promise((r) => setTimeout(r, 25));
      sawSlow ||= (await metric(httpUrl('/metrics'), 'taskpulse_gateway_slow_sockets')) === 1;
    }
    expect(sawSlow).toBe(true);
    expect(gateway.connectionCount()).toBe(0);
    expect(await metric(httpUrl('/metrics'), 'taskpulse_gateway_slow_consumer_closes_total')).toBe(1);
    expect(await metric(httpUrl('/metrics'), 'taskpulse_gateway_slow_sockets')).toBe(0);
    expect(await metric(httpUrl('/metrics'), 'taskpulse_gateway_conflated_frames_total')).toBe(0);
    rawSocket(client).resume();
    expect((await client.closed).code).toBe(4000);
  });
});
