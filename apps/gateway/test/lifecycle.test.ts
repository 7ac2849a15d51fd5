/** Connection lifecycles: closes mid-subscribe, node reports, drain, slow consumers and broadcasts. */
import { describe, expect, it } from 'vitest';
import { waitFor, connectClient, type Frame } from '@taskpulse/testkit';
import { ENGINE_MATRIX, openEngine, uniquePrefix } from '@taskpulse/testkit/engines';
import { encodeBroadcastFrame, projectChannel, taskChannel, userChannel } from '@taskpulse/protocol';
import { closeAllAfterEach, startGateway } from './support/gateways';
import { instrument, progress, publish } from './support/engines';

closeAllAfterEach();

describe.each(ENGINE_MATRIX)('lifecycle ($name engine)', (backend) => {
  async function setup(options: Parameters<typeof startGateway>[0] extends infer O ? Partial<O> : never = {}) {
    const engine = instrument(await backend.open());
    return { engine, ...(await startGateway({ engine, ...options })) };
  }

  it('leaves no engine registration when a socket closes while its subscribe awaits the engine', async () => {
    const { engine, wsUrl, gateway } = await setup();
    const taskId = 'task-abandoned';
    await publish(engine, { kind: 'start', taskId });
    const client = await connectClient(wsUrl('user_id=u1&project_id=p1'));
    await waitFor('broadcast registrations', () => engine.registrations() === 2);
    const release = engine.holdReads();
    client.send({ action: 'subscribe', task_id: taskId });
    await waitFor('subscribe reached the read', () => engine.readsStarted() === 1);
    expect(engine.registrations(taskChannel(engine.prefix, taskId))).toBe(2);
    client.ws.terminate();
    await waitFor('server saw the close', () => gateway.connectionCount() === 0);
    release();
    await waitFor('every registration gone', () => engine.registrations() === 0);
    await publish(engine, progress(taskId, 1));

    // A subscription still bridging (no newer frame yet) and a delivered one are both released on close.
    const other = await connectClient(wsUrl());
    other.send({ action: 'subscribe', task_id: taskId, request_id: 'a' });
    other.send({ action: 'subscribe', task_id: 'task-fresh', request_id: 'b' });
    await other.next((f) => f.request_id === 'b');
    await other.next((f) => f.request_id === 'a');
    expect(engine.registrations()).toBeGreaterThanOrEqual(2);
    await other.close();
    await waitFor('every registration gone again', () => engine.registrations() === 0);
  });

  it('answers a subscribe the engine cannot serve with an unavailable error and keeps the connection', async () => {
    const { engine, wsUrl } = await setup();
    const client = await connectClient(wsUrl());
    engine.failReads(true);
    client.send({ action: 'subscribe', task_id: 'task-x', request_id: 'r1' });
    const error = await client.next((f) => f.request_id === 'r1');
    expect(error).toMatchObject({ type: 'error', task_id: 'task-x', payload: { code: 'unavailable' } });
    expect(error.payload.message).toMatch(/try again/);
    await waitFor('registrations undone', () => engine.registrations(taskChannel(engine.prefix, 'task-x')) === 0);
    engine.failReads(false);
    client.send({ action: 'subscribe', task_id: 'task-x', request_id: 'r2' });
    expect((await client.next((f) => f.request_id === 'r2')).type).toBe('ack');
  });

  it('reports its connection counts by user and project and removes the report on close', async () => {
    const { engine, wsUrl, gateway } = await setup({ nodeId: 'node-under-test' });
    await waitFor('empty report', async () => (await engine.connectionStats()).nodes === 1);
    const a = await connectClient(wsUrl('user_id=u1&project_id=p1'));
    await connectClient(wsUrl('user_id=u1&project_id=p2'));
    await connectClient(wsUrl('project_id=p1'));
    const stats = await waitFor('three connections reported', async () => {
      const s = await engine.connectionStats();
      return s.total_clients === 3 ? s : undefined;
    });
    expect(stats).toEqual({ total_clients: 3, by_user: { u1: 2 }, by_project: { p1: 2, p2: 1 }, nodes: 1 });
    await a.close();
    await waitFor('the close reported', async () => (await engine.connectionStats()).by_project.p1 === 1);
    expect((await engine.connectionStats()).by_user).toEqual({ u1: 1 });
    await gateway.close();
    expect(await engine.connectionStats()).toEqual({ total_clients: 0, by_user: {}, by_project: {}, nodes: 0 });
  });

  it('drains on close: clients get 1012, the port stops answering, the engine is left', async () => {
    const { engine, wsUrl, httpUrl, gateway } = await setup();
    const a = await connectClient(wsUrl('user_id=u1&project_id=p1'));
    const b = await connectClient(wsUrl());
    a.send({ action: 'subscribe', task_id: 'task-drain', request_id: 's' });
    await a.next((f) => f.request_id === 's');
    await gateway.close();
    expect(await a.closed).toEqual({ code: 1012, reason: 'server draining: reconnect' });
    expect((await b.closed).code).toBe(1012);
    expect(engine.registrations()).toBe(0);
    await expect(fetch(httpUrl('/healthz'))).rejects.toThrow();
    await gateway.close(); // idempotent
  });

  it('closes a client that stops reading with 4000, after every frame it was sent, never skipping one', async () => {
    const { engine, wsUrl, gateway } = await setup({ limits: { maxBackpressureBytes: 64 * 1024, backpressureCheckMs: 20 } });
    const taskId = 'task-flood';
    await publish(engine, { kind: 'start', taskId });
    const client = await connectClient(wsUrl());
    client.send({ action: 'subscribe', task_id: taskId, request_id: 's' });
    await client.next((f) => f.request_id === 's');
    await publish(engine, progress(taskId, 0));
    await client.next((f) => f.offset === 2); // delivered by topic from here on
    (client.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();

    const big = 'x'.repeat(2000);
    let published = 2;
    while (gateway.connectionCount() > 0 && published < 30_000) {
      await Promise.all(Array.from({ length: 50 }, (_, i) => publish(engine, progress(taskId, published + i, big))));
      published += 50;
      await new Promise((r) => setImmediate(r));
    }
    expect(gateway.connectionCount()).toBe(0);
    expect(await (await fetch(`http://127.0.0.1:${gateway.port}/metrics`)).text()).toMatch(/^taskpulse_gateway_slow_consumer_closes_total 1$/m);

    (client.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    const { code, reason } = await client.closed;
    expect(code).toBe(4000);
    expect(reason).toMatch(/slow consumer/);
    const received = client.taskFrames(taskId).filter((f) => f.type === 'progress' || f.type === 'status').map((f) => f.offset);
    expect(received.length).toBeGreaterThan(10);
    expect(received).toEqual(Array.from({ length: received.length }, (_, k) => k + 1));
  });

  it('sends user and project broadcasts only to the matching connections', async () => {
    const { engine, wsUrl, gateway } = await setup();
    const a = await connectClient(wsUrl('user_id=u1&project_id=p1'));
    const b = await connectClient(wsUrl('user_id=u2&project_id=p1'));
    const c = await connectClient(wsUrl('user_id=u1'));
    const p = engine.prefix;
    // One engine registration per channel, however many of this gateway's connections share it.
    await waitFor('broadcast channels live', () =>
      engine.registrations(userChannel(p, 'u1')) === 1 && engine.registrations(projectChannel(p, 'p1')) === 1 && engine.registrations(userChannel(p, 'u2')) === 1,
    );
    const frame = (scope: 'user' | 'project', message: string) =>
      encodeBroadcastFrame(scope, 'task-456', { progress: 50, message, timestamp: '2026-02-21T10:32:00Z' });
    await engine.broadcast(userChannel(p, 'u1'), frame('user', 'to u1'));
    await engine.broadcast(projectChannel(p, 'p1'), frame('project', 'to p1'));
    await engine.broadcast(userChannel(p, 'u2'), frame('user', 'to u2'));
    await engine.broadcast(userChannel(p, 'u1'), frame('user', 'last'));
    const messages = (frames: Frame[]) => frames.filter((f) => f.scope).map((f) => f.payload.message);
    await a.next((f) => f.payload?.message === 'last');
    await c.next((f) => f.payload?.message === 'last');
    await b.next((f) => f.payload?.message === 'to u2');
    expect(messages(a.frames)).toEqual(['to u1', 'to p1', 'last']);
    expect(messages(b.frames)).toEqual(['to p1', 'to u2']);
    expect(messages(c.frames)).toEqual(['to u1', 'last']);
    // Each broadcast's server-side fan-out is timed once per gateway, by kind.
    const histogram = await gateway.metrics.registry.getSingleMetricAsString('taskpulse_gateway_broadcast_fanout_seconds');
    expect(histogram).toContain('taskpulse_gateway_broadcast_fanout_seconds_count{kind="user"} 3');
    expect(histogram).toContain('taskpulse_gateway_broadcast_fanout_seconds_count{kind="project"} 1');
    expect(a.frames.find((f) => f.scope === 'user')).toMatchObject({
      type: 'progress',
      task_id: 'task-456',
      scope: 'user',
      payload: { task_id: 'task-456', progress: 50, message: 'to u1', status: 'running' },
    });

    // The channel stays registered while any connection of its user is open, and only that long.
    await a.close();
    await engine.broadcast(userChannel(p, 'u1'), frame('user', 'after a left'));
    await c.next((f) => f.payload?.message === 'after a left');
    expect(engine.registrations(userChannel(p, 'u1'))).toBe(1);
    await c.close();
    await waitFor('u1 channel left', () => engine.registrations(userChannel(p, 'u1')) === 0);
    expect(engine.registrations(projectChannel(p, 'p1'))).toBe(1);
  });
});

describe('two gateway nodes on one Redis', () => {
  it('delivers one publish to clients on both nodes', async () => {
    const prefix = uniquePrefix();
    const [engineA, engineB, publisher] = await Promise.all([
      openEngine('redis', prefix),
      openEngine('redis', prefix),
      openEngine('redis', prefix),
    ]);
    const nodeA = await startGateway({ engine: engineA!, nodeId: 'node-a' });
    const nodeB = await startGateway({ engine: engineB!, nodeId: 'node-b' });
    const taskId = 'task-two-nodes';
    const onA = await connectClient(nodeA.wsUrl('user_id=u1'));
    const onB = await connectClient(nodeB.wsUrl('user_id=u2'));
    for (const client of [onA, onB]) {
      client.send({ action: 'subscribe', task_id: taskId, request_id: 's' });
      await client.next((f) => f.request_id === 's');
    }
    await publish(publisher!, { kind: 'start', taskId, userId: 'u1' });
    await publish(publisher!, progress(taskId, 30));
    for (const client of [onA, onB]) await client.next((f) => f.task_id === taskId && f.offset === 2);
    expect(onA.taskFrames(taskId).filter((f) => f.offset).map((f) => f.offset)).toEqual([1, 2]);
    expect(onB.taskFrames(taskId).filter((f) => f.offset).map((f) => f.offset)).toEqual([1, 2]);
    const stats = await waitFor('both nodes reported', async () => {
      const s = await publisher!.connectionStats();
      return s.nodes === 2 && s.total_clients === 2 ? s : undefined;
    });
    expect(stats.by_user).toEqual({ u1: 1, u2: 1 });
  });
});
