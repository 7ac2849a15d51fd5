/** Subscribing: snapshot, ack and live frames in order, resume by offset and epoch, unsubscribe, limits. */
import { describe, expect, it } from 'vitest';
import { taskChannel } from '@taskpulse/protocol';
import { waitFor, connectClient, type Frame, type TestClient } from '@taskpulse/testkit';
import { ENGINE_MATRIX, uniquePrefix, closeWithEngines } from '@taskpulse/testkit/engines';
import { closeAllAfterEach, startGateway } from './support/gateways';
import { createMemoryEngine } from '@taskpulse/engine';
import { instrument, progress, publish } from './support/engines';

closeAllAfterEach();

/** Frames of a task that are task events (progress or status), as offsets. */
function offsets(frames: Frame[]): number[] {
  return frames.filter((f) => f.type === 'progress' || f.type === 'status').map((f) => f.offset);
}

describe.each(ENGINE_MATRIX)('subscribing ($name engine)', (backend) => {
  async function setup(limits = {}) {
    const engine = instrument(await backend.open());
    const running = await startGateway({ engine, limits });
    return { engine, ...running, connect: (query = 'user_id=u1') => connectClient(running.wsUrl(query)) };
  }

  async function subscribed(client: TestClient, taskId: string, extra: Record<string, unknown> = {}): Promise<Frame> {
    const requestId = `r-${Math.random()}`;
    client.send({ action: 'subscribe', task_id: taskId, request_id: requestId, ...extra });
    return client.next((f) => f.request_id === requestId);
  }

  it('sends the newest progress and status frames, then the ack, then live frames', async () => {
    const { engine, connect } = await setup();
    const taskId = 'task-snapshot';
    const started = await publish(engine, { kind: 'start', taskId, userId: 'u1' });
    for (let i = 1; i <= 3; i++) await publish(engine, progress(taskId, i * 10));
    const client = await connect();
    const ack = await subscribed(client, taskId);
    expect(ack).toEqual({
      type: 'ack',
      action: 'subscribe',
      task_id: taskId,
      request_id: ack.request_id,
      payload: { recovered: false, offset: 4, epoch: started.epoch },
    });
    const before = client.taskFrames(taskId);
    expect(before.map((f) => `${f.type}@${f.offset}`)).toEqual(['status@1', 'progress@4', 'ack@undefined']);
    expect(before[1]!.payload).toMatchObject({ progress: 30, message: 'step 30' });

    await publish(engine, progress(taskId, 50));
    await publish(engine, { kind: 'complete', taskId, result: { ok: true } });
    await client.next((f) => f.type === 'status' && f.offset === 6);
    expect(offsets(client.taskFrames(taskId))).toEqual([1, 4, 5, 6]);
    expect(client.taskFrames(taskId).at(-1)!.payload).toMatchObject({ status: 'completed', result: { ok: true } });
  });

  it('subscribes to an unknown task with offset 0 and delivers it from its start', async () => {
    const { engine, connect } = await setup();
    const taskId = 'task-not-yet';
    const client = await connect();
    const ack = await subscribed(client, taskId);
    expect(ack.payload).toEqual({ recovered: false, offset: 0 });
    await publish(engine, { kind: 'start', taskId });
    await publish(engine, progress(taskId, 1));
    await client.next((f) => f.offset === 2);
    expect(offsets(client.taskFrames(taskId))).toEqual([1, 2]);
  });

  it('resumes with offset and epoch: exactly the missed frames, recovered true, then live', async () => {
    const { engine, connect } = await setup();
    const taskId = 'task-resume';
    const { epoch } = await publish(engine, { kind: 'start', taskId });
    const first = await connect();
    await subscribed(first, taskId);
    await publish(engine, progress(taskId, 1));
    await first.next((f) => f.offset === 2);
    await first.close();

    for (let i = 2; i <= 6; i++) await publish(engine, progress(taskId, i));
    const second = await connect();
    const ack = await subscribed(second, taskId, { offset: 2, epoch });
    expect(ack.payload).toEqual({ recovered: true, offset: 7, epoch });
    expect(offsets(second.taskFrames(taskId))).toEqual([3, 4, 5, 6, 7]);
    await publish(engine, progress(taskId, 7));
    await second.next((f) => f.offset === 8);
    expect(offsets(second.taskFrames(taskId))).toEqual([3, 4, 5, 6, 7, 8]);

    const upToDate = await connect();
    const none = await subscribed(upToDate, taskId, { offset: 8, epoch });
    expect(none.payload).toEqual({ recovered: true, offset: 8, epoch });
    expect(offsets(upToDate.taskFrames(taskId))).toEqual([]);
  });

  it('answers a resume it cannot make exact with recovered false and the latest snapshot', async () => {
    const { engine, connect } = await setup();
    const taskId = 'task-wrong-epoch';
    const { epoch } = await publish(engine, { kind: 'start', taskId });
    for (let i = 1; i <= 4; i++) await publish(engine, progress(taskId, i));
    const client = await connect();

    const wrongEpoch = await subscribed(client, taskId, { offset: 2, epoch: 'zzzzzzzz' });
    expect(wrongEpoch.payload).toEqual({ recovered: false, offset: 5, epoch });
    expect(offsets(client.taskFrames(taskId))).toEqual([1, 5]);

    const other = await connect();
    const ahead = await subscribed(other, taskId, { offset: 9, epoch });
    expect(ahead.payload).toEqual({ recovered: false, offset: 5, epoch });
    expect(offsets(other.taskFrames(taskId))).toEqual([1, 5]);

    const longTask = 'task-history-gone';
    const long = await publish(engine, { kind: 'start', taskId: longTask });
    for (let i = 1; i <= 110; i++) await publish(engine, progress(longTask, i));
    const late = await connect();
    const tooOld = await subscribed(late, longTask, { offset: 3, epoch: long.epoch });
    expect(tooOld.payload).toEqual({ recovered: false, offset: 111, epoch: long.epoch });
    expect(offsets(late.taskFrames(longTask))).toEqual([1, 111]);
  });

  it('stops delivery on unsubscribe and acks an unsubscribe of a task not subscribed', async () => {
    const { engine, connect } = await setup();
    const client = await connect();
    await subscribed(client, 'task-a');
    await publish(engine, { kind: 'start', taskId: 'task-a' });
    await client.next((f) => f.task_id === 'task-a' && f.offset === 1);
    client.send({ action: 'unsubscribe', task_id: 'task-a', request_id: 'u1' });
    expect(await client.next((f) => f.request_id === 'u1')).toEqual({ type: 'ack', action: 'unsubscribe', task_id: 'task-a', request_id: 'u1', payload: {} });
    expect(engine.registrations(taskChannel(engine.prefix, 'task-a'))).toBe(0);

    await publish(engine, progress('task-a', 1));
    await subscribed(client, 'task-b');
    await publish(engine, { kind: 'start', taskId: 'task-b' });
    await client.next((f) => f.task_id === 'task-b' && f.offset === 1);
    expect(offsets(client.taskFrames('task-a'))).toEqual([1]);

    client.send({ action: 'unsubscribe', task_id: 'task-never', request_id: 'u2' });
    expect((await client.next((f) => f.request_id === 'u2')).type).toBe('ack');
  });

  it('acks a second subscribe to the same task without delivering anything twice', async () => {
    const { engine, connect } = await setup();
    const taskId = 'task-twice';
    await publish(engine, { kind: 'start', taskId });
    const client = await connect();
    await subscribed(client, taskId);
    const again = await subscribed(client, taskId);
    expect(again).toMatchObject({ type: 'ack', action: 'subscribe', task_id: taskId });
    // Both at once, before either is acked.
    client.send({ action: 'subscribe', task_id: 'task-burst', request_id: 'b1' });
    client.send({ action: 'subscribe', task_id: 'task-burst', request_id: 'b2' });
    await client.next((f) => f.request_id === 'b2');
    expect(client.frames.filter((f) => f.type === 'ack' && f.task_id === 'task-burst')).toHaveLength(2);

    await publish(engine, progress(taskId, 1));
    await publish(engine, { kind: 'start', taskId: 'task-burst' });
    await publish(engine, progress(taskId, 2));
    await client.next((f) => f.task_id === taskId && f.offset === 3);
    await client.next((f) => f.task_id === 'task-burst' && f.offset === 1);
    expect(offsets(client.taskFrames(taskId))).toEqual([1, 2, 3]);
    expect(offsets(client.taskFrames('task-burst'))).toEqual([1]);
    // One engine registration per subscription once it is delivered by topic, however often it was asked for.
    await waitFor('topic delivery', () => engine.registrations(taskChannel(engine.prefix, taskId)) === 1);
    expect(engine.registrations(taskChannel(engine.prefix, 'task-burst'))).toBe(1);
  });

  it('refuses subscriptions over the per-connection limit with too_many_subscriptions', async () => {
    const { connect } = await setup({ subscriptionsPerConnection: 3 });
    const client = await connect();
    for (const taskId of ['t1', 't2', 't3']) await subscribed(client, taskId);
    const refused = await subscribed(client, 't4');
    expect(refused).toMatchObject({ type: 'error', task_id: 't4', payload: { code: 'too_many_subscriptions', field: 'task_id' } });
    expect(refused.payload.message).toMatch(/at most 3/);
    client.send({ action: 'unsubscribe', task_id: 't1', request_id: 'u' });
    await client.next((f) => f.request_id === 'u');
    expect((await subscribed(client, 't4')).type).toBe('ack');
  });

  it('answers malformed frames with an error frame naming the problem and keeps the connection', async () => {
    const { connect } = await setup();
    const client = await connect();
    const cases: Array<[string | Buffer, Record<string, unknown>]> = [
      ['not json', { code: 'bad_request', field: 'frame' }],
      ['[1,2]', { code: 'bad_request', field: 'frame' }],
      ['{"action":"dance","request_id":"r1"}', { code: 'unknown_action', field: 'action' }],
      ['{"action":"subscribe","task_id":"bad id!","request_id":"r2"}', { code: 'bad_request', field: 'task_id' }],
      ['{"action":"subscribe","task_id":"t","offset":-1,"epoch":"e"}', { code: 'bad_request', field: 'offset' }],
      [Buffer.from('{"action":"ping"}'), { code: 'bad_request', field: 'frame' }],
    ];
    for (const [index, [data, expected]] of cases.entries()) {
      client.sendRaw(data, Buffer.isBuffer(data));
      const error = await waitFor(`error frame ${index}`, () => client.frames.filter((f) => f.type === 'error')[index]);
      expect(error.payload).toMatchObject(expected);
      expect(typeof error.payload.message).toBe('string');
      client.send({ action: 'ping', request_id: `p${index}` });
      expect(await client.next((f) => f.request_id === `p${index}`)).toEqual({ type: 'ack', action: 'ping', request_id: `p${index}`, payload: {} });
    }
    const errors = client.frames.filter((f) => f.type === 'error');
    expect(errors[2]).toMatchObject({ request_id: 'r1' });
    expect(errors[2]!.payload.message).toMatch(/dance/);
    expect(errors[3]).toMatchObject({ request_id: 'r2' });
    expect(errors[5]!.payload.message).toMatch(/binary/);
  });

  it('answers a frame over the size limit with frame_too_large and keeps the connection', async () => {
    const { connect } = await setup();
    const client = await connect();
    client.sendRaw(JSON.stringify({ action: 'ping', request_id: 'big', pad: 'y'.repeat(5000) }));
    const error = await client.next((f) => f.type === 'error');
    expect(error).toMatchObject({ request_id: 'big', payload: { code: 'frame_too_large', field: 'frame' } });
    expect(error.payload.message).toMatch(/at most 4096 bytes, got 50\d\d/);
    client.send({ action: 'ping', request_id: 'after' });
    expect(await client.next((f) => f.request_id === 'after')).toMatchObject({ type: 'ack', action: 'ping' });
    client.send({ action: 'subscribe', task_id: 'task-after-big', request_id: 's' });
    expect(await client.next((f) => f.request_id === 's')).toMatchObject({ type: 'ack', action: 'subscribe' });
  });

  it('closes with 1009 and a reason on a frame over the hard cap, after the frames queued before it', async () => {
    const { connect, gateway } = await setup({ clientFrameHardCapBytes: 16 * 1024 });
    const client = await connect();
    client.sendRaw('not json');
    client.sendRaw(JSON.stringify({ action: 'ping', request_id: 'mid', pad: 'y'.repeat(8000) }));
    client.send({ action: 'ping', request_id: 'p1' });
    client.sendRaw(JSON.stringify({ action: 'ping', request_id: 'huge', pad: 'y'.repeat(20_000) }));
    const { code, reason } = await client.closed;
    expect(code).toBe(1009);
    expect(reason).toMatch(/over the hard cap of 16384/);
    expect(client.frames.slice(1).map((f) => f.payload?.code ?? f.request_id)).toEqual(['bad_request', 'frame_too_large', 'p1']);
    await waitFor('server side closed', () => gateway.connectionCount() === 0);
    expect(await gateway.metrics.registry.getSingleMetricAsString('taskpulse_gateway_message_too_big_closes_total')).toMatch(/ 1$/m);
  });

  it('refuses the 101st subscription with the default limit and keeps serving the connection', async () => {
    const { connect } = await setup();
    const client = await connect();
    for (let i = 0; i < 100; i++) client.send({ action: 'subscribe', task_id: `many-${i}`, request_id: `s${i}` });
    await waitFor('100 acks', () => client.frames.filter((f) => f.type === 'ack').length === 100, 20_000);
    const refused = await subscribed(client, 'many-100');
    expect(refused).toMatchObject({ type: 'error', payload: { code: 'too_many_subscriptions' } });
    client.send({ action: 'ping', request_id: 'alive' });
    expect(await client.next((f) => f.request_id === 'alive')).toMatchObject({ type: 'ack', action: 'ping' });
  });

  it('answers frames over the rate with rate_limited and serves the connection again once it slows down', async () => {
    const { connect } = await setup({ rate: { perSecond: 20, burst: 2, maxStrikes: 50 } });
    const client = await connect();
    for (let i = 0; i < 5; i++) client.send({ action: 'ping', request_id: `b${i}` });
    await waitFor('three refusals', () => client.frames.filter((f) => f.payload?.code === 'rate_limited').length === 3);
    await new Promise((r) => setTimeout(r, 200));
    client.send({ action: 'ping', request_id: 'later' });
    expect(await client.next((f) => f.request_id === 'later')).toMatchObject({ type: 'ack', action: 'ping' });
    expect(client.frames.filter((f) => f.type === 'ack').map((f) => f.request_id)).toEqual(['b0', 'b1', 'later']);
  });

  it('rate-limits frames with rate_limited errors and closes sustained abuse with 4501', async () => {
    const { connect } = await setup({ rate: { perSecond: 1, burst: 3, maxStrikes: 5 } });
    const client = await connect();
    for (let i = 0; i < 12; i++) client.send({ action: 'ping', request_id: `p${i}` });
    const { code } = await client.closed;
    expect(code).toBe(4501);
    expect(client.frames.filter((f) => f.type === 'ack').map((f) => f.request_id)).toEqual(['p0', 'p1', 'p2']);
    const limited = client.frames.filter((f) => f.type === 'error');
    expect(limited).toHaveLength(4);
    expect(limited[0]!.payload.code).toBe('rate_limited');
  });
});

describe('subscribing across an epoch change (memory engine, moved clock)', () => {
  it('delivers a restarted task to a subscriber still waiting for its first newer frame', async () => {
    let now = Date.now();
    const engine = closeWithEngines(instrument(createMemoryEngine({ prefix: uniquePrefix(), now: () => now })));
    const { wsUrl } = await startGateway({ engine });
    const taskId = 'task-reborn';
    const first = await publish(engine, { kind: 'start', taskId });
    for (let i = 1; i <= 4; i++) await publish(engine, progress(taskId, i));
    const client = await connectClient(wsUrl('user_id=u1'));
    client.send({ action: 'subscribe', task_id: taskId, request_id: 's' });
    expect((await client.next((f) => f.request_id === 's')).payload.offset).toBe(5);

    now += 25 * 3600 * 1000; // the history expires; the next event opens a new epoch at offset 1
    const reborn = await publish(engine, { kind: 'start', taskId });
    expect(reborn.epoch).not.toBe(first.epoch);
    await publish(engine, progress(taskId, 1));
    await client.next((f) => f.task_id === taskId && f.epoch === reborn.epoch && f.offset === 2);
    const after = client.taskFrames(taskId).filter((f) => f.epoch === reborn.epoch);
    expect(after.map((f) => f.offset)).toEqual([1, 2]);
  });
});
