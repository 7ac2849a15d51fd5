/**
 * Sessions restored on the server (issue 7 item 1): a client whose TCP connection dropped reconnects with
 * `old_client_id` alone, on another gateway, and gets every subscription back with exactly the frames it
 * missed, then live frames; no gap, no duplicate; history too short → the current state with
 * `recovered: false`, the terminal status included; the guide's own resubscribe adds nothing twice.
 */
import { describe, expect, it } from 'vitest';
import { waitFor, connectClient, type Frame, type TestClient } from '@taskpulse/testkit';
import { ENGINE_MATRIX, openReplicas, uniquePrefix } from '@taskpulse/testkit/engines';
import { closeAllAfterEach, startGateway, type RunningGateway } from './support/gateways';
import { progress, publish } from './support/engines';
import type { Engine } from '@taskpulse/engine';

closeAllAfterEach();

const FAST = { limits: { sessionRefreshMs: 50 } };

/** Task event frames of one task (progress and status), in arrival order. */
function events(client: TestClient, taskId: string): Frame[] {
  return client.taskFrames(taskId).filter((f) => f.type === 'progress' || f.type === 'status');
}

describe.each(ENGINE_MATRIX)('session restore ($name engine)', (backend) => {
  /** Two gateways on one store: for Redis, each with its own engine, as two nodes would be. */
  async function twoGateways(): Promise<{ engine: Engine; a: RunningGateway; b: RunningGateway }> {
    const prefix = uniquePrefix();
    const [engine, other] = await openReplicas(backend, prefix);
    return { engine, a: await startGateway({ engine, ...FAST }), b: await startGateway({ engine: other, ...FAST }) };
  }

  /** Connects to `a`, subscribes to the task, waits for the ack and for the session to be written; then drops TCP. */
  async function subscribeThenDrop(a: RunningGateway, engine: Engine, taskId: string, lastSeen: number): Promise<TestClient> {
    const client = await connectClient(a.wsUrl('user_id=u-restore'));
    client.send({ action: 'subscribe', task_id: taskId, request_id: 'r1' });
    await client.next((f) => f.type === 'ack' && f.task_id === taskId);
    await waitFor('the frames before the drop', () => events(client, taskId).some((f) => f.offset === lastSeen));
    await waitFor('the session written with its position', async () => (await engine.loadSession(client.clientId))?.tasks[taskId]?.offset === lastSeen);
    client.ws.terminate();
    await waitFor('gateway a to see the close', () => a.gateway.connectionCount() === 0);
    return client;
  }

  it('restores the subscription on another gateway: exactly the missed frames, then live, no duplicate', async () => {
    const { engine, a, b } = await twoGateways();
    const taskId = 'task-restore';
    await publish(engine, { kind: 'start', taskId });
    for (let i = 1; i <= 5; i++) await publish(engine, progress(taskId, i));
    const first = await subscribeThenDrop(a, engine, taskId, 6);

    for (let i = 6; i <= 15; i++) await publish(engine, progress(taskId, i)); // offsets 7..16, missed
    const back = await connectClient(b.wsUrl(`old_client_id=${first.clientId}`));
    expect(back.frames[0]).toEqual({
      type: 'connected',
      payload: { client_id: back.clientId, user_id: 'u-restore', restored_tasks: [taskId] },
    });
    const ack = await back.next((f) => f.type === 'ack' && f.task_id === taskId);
    expect(ack).toMatchObject({ action: 'subscribe', payload: { recovered: true, offset: 16 } });
    expect(ack.request_id).toBeUndefined();
    // The guide's resubscribeTasks(): a subscribe without offset right after connected → the ack only.
    back.send({ action: 'subscribe', task_id: taskId });
    await waitFor('the second ack', () => back.taskFrames(taskId).filter((f) => f.type === 'ack').length === 2);
    for (let i = 16; i <= 20; i++) await publish(engine, progress(taskId, i)); // offsets 17..21, live
    await publish(engine, { kind: 'complete', taskId }); // 22
    await waitFor('the terminal status', () => events(back, taskId).some((f) => f.offset === 22));
    await new Promise((r) => setTimeout(r, 100)); // a duplicate would arrive now
    expect(events(back, taskId).map((f) => f.offset)).toEqual(Array.from({ length: 16 }, (_, k) => 7 + k));
    expect(events(back, taskId).at(-1)).toMatchObject({ type: 'status', payload: { status: 'completed' } });
    // The restored session was saved under the new client id and carries the new position.
    await waitFor('the new session', async () => (await engine.loadSession(back.clientId))?.tasks[taskId]?.offset === 22);
  });

  it('answers a restore past the history with the current state, recovered:false, newest progress and terminal status', async () => {
    const { engine, a, b } = await twoGateways();
    const taskId = 'task-far';
    await publish(engine, { kind: 'start', taskId });
    const first = await subscribeThenDrop(a, engine, taskId, 1);
    for (let i = 1; i <= 150; i++) await publish(engine, progress(taskId, i)); // offsets 2..151
    await publish(engine, { kind: 'fail', taskId, error: 'boom' }); // 152
    const back = await connectClient(b.wsUrl(`old_client_id=${first.clientId}`));
    const ack = await back.next((f) => f.type === 'ack' && f.task_id === taskId);
    expect(ack.payload).toMatchObject({ recovered: false, offset: 152 });
    const before = back.taskFrames(taskId).slice(0, back.taskFrames(taskId).indexOf(ack));
    expect(before.map((f) => [f.type, f.offset])).toEqual([
      ['progress', 151],
      ['status', 152],
    ]);
    expect(before[1]!.payload.status).toBe('failed');
    await publish(engine, { kind: 'start', taskId }); // 153: live after the ack
    await waitFor('the live frame', () => events(back, taskId).some((f) => f.offset === 153));
    expect(events(back, taskId).map((f) => f.offset)).toEqual([151, 152, 153]);
  });

  it('restores after a drain (1012): the terminal status published meanwhile arrives without a resubscribe', async () => {
    const { engine, a, b } = await twoGateways();
    const taskId = 'task-drain';
    await publish(engine, { kind: 'start', taskId });
    const client = await connectClient(a.wsUrl('project_id=p-drain'));
    client.send({ action: 'subscribe', task_id: taskId, request_id: 'r' });
    await client.next((f) => f.type === 'ack');
    await a.gateway.close();
    expect((await client.closed).code).toBe(1012);
    await publish(engine, progress(taskId, 50)); // 2
    await publish(engine, { kind: 'complete', taskId }); // 3
    const back = await connectClient(b.wsUrl(`old_client_id=${client.clientId}`));
    await back.next((f) => f.type === 'status' && f.payload.status === 'completed');
    expect(events(back, taskId).map((f) => f.offset)).toEqual([2, 3]);
    expect(back.frames[0]!.payload).toMatchObject({ project_id: 'p-drain', restored_tasks: [taskId] });
  });

  it('restores nothing for a session that expired, and keeps unsubscribed tasks out of the session', async () => {
    const prefix = uniquePrefix();
    const engine = await backend.open(prefix);
    const gw = await startGateway({ engine, limits: { sessionRefreshMs: 50, sessionTtlSeconds: 1 } });
    const client = await connectClient(gw.wsUrl('user_id=u-x'));
    client.send({ action: 'subscribe', task_id: 'keep', request_id: 'k' });
    client.send({ action: 'subscribe', task_id: 'drop', request_id: 'd' });
    client.send({ action: 'unsubscribe', task_id: 'drop', request_id: 'd2' });
    await client.next((f) => f.type === 'ack' && f.request_id === 'd2');
    await waitFor('the session without the dropped task', async () => {
      const tasks = (await engine.loadSession(client.clientId))?.tasks ?? {};
      return Object.keys(tasks).join() === 'keep';
    });
    await client.close();
    await waitFor('the session to expire', async () => (await engine.loadSession(client.clientId)) === null, 5000, 100);
    const late = await connectClient(gw.wsUrl(`old_client_id=${client.clientId}`));
    expect(late.frames[0]!.payload).toEqual({ client_id: late.clientId });
  });

  it('lets a resumed client that resubscribes with its own position claim the task: no frame twice from a stale session', async () => {
    const { engine, b } = await twoGateways();
    const taskId = 'task-claim';
    await publish(engine, { kind: 'start', taskId });
    for (let i = 1; i <= 8; i++) await publish(engine, progress(taskId, i)); // offsets 2..9
    const { epoch } = (await engine.snapshot(taskId))!;
    // What a killed gateway leaves: a session saved at offset 3 while its client had seen up to 7.
    await engine.saveSession('a'.repeat(32), { who: { userId: 'u-claim' }, tasks: { [taskId]: { offset: 3, epoch } } }, 60);
    await engine.saveSession('b'.repeat(32), { who: { userId: 'u-claim' }, tasks: { [taskId]: { offset: 3, epoch } } }, 60);

    const exact = await connectClient(b.wsUrl(`old_client_id=${'a'.repeat(32)}`));
    exact.send({ action: 'subscribe', task_id: taskId, offset: 7, epoch, request_id: 'mine' });
    const restoreOnly = await connectClient(b.wsUrl(`old_client_id=${'b'.repeat(32)}`));
    const ack = await exact.next((f) => f.type === 'ack' && f.task_id === taskId);
    expect(ack).toMatchObject({ request_id: 'mine', payload: { recovered: true, offset: 9 } });
    expect(events(exact, taskId).map((f) => f.offset)).toEqual([8, 9]);
    // The client that sends nothing gets the server's restore after the grace, from the session's position.
    const restored = await restoreOnly.next((f) => f.type === 'ack' && f.task_id === taskId);
    expect(restored.request_id).toBeUndefined();
    expect(events(restoreOnly, taskId).map((f) => f.offset)).toEqual([4, 5, 6, 7, 8, 9]);
    await new Promise((r) => setTimeout(r, 300)); // past the grace: the claimed task is not restored again
    expect(exact.frames.filter((f) => f.type === 'ack' && f.task_id === taskId)).toHaveLength(1);
    expect(events(exact, taskId).map((f) => f.offset)).toEqual([8, 9]);
  });
});
