/**
 * A socket that closes with unsent bytes (frames still in uWebSockets.js's buffer or its conflation
 * queue) must not have its session saved past what it was sent before: the client never got those frames,
 * and a restore from the topic's position would skip them, the terminal status included. Here a reader
 * that stopped reading (its `net.Socket` paused) has many frames and `completed` published to it, then its
 * TCP connection is destroyed; the guide's reconnect (`old_client_id` only) must bring `completed`.
 */
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { waitFor, connectClient } from '@taskpulse/testkit';
import { openEngine } from '@taskpulse/testkit/engines';
import type { ConnectionSession } from '@taskpulse/engine';
import { capToSaved } from '../src/session-keeper';
import { closeAllAfterEach, startGateway } from './support/gateways';
import { progress, publish } from './support/engines';

closeAllAfterEach();

// Retried: a connection upgraded after an await (here the session read) is sometimes never greeted: the open
// bug in the README's known issues.
describe('session of a socket closed with unsent bytes', { retry: 2 }, () => {
  it('a paused reader whose TCP connection dies gets the completed status on a reconnect with old_client_id only', async () => {
    const engine = await openEngine('redis');
    // A high hard limit so the gateway does not close the socket itself (4000): the peer's TCP dies first.
    const limits = { sessionRefreshMs: 50, backpressureCheckMs: 50, maxBackpressureBytes: 256 << 20 };
    const gateway = await startGateway({ engine, limits });
    const taskId = 'task-unsent';
    await publish(engine, { kind: 'start', taskId });
    const reader = await connectClient(gateway.wsUrl('user_id=u-paused'));
    reader.send({ action: 'subscribe', task_id: taskId, request_id: 'r1' });
    await reader.next((f) => f.type === 'ack' && f.task_id === taskId);
    await waitFor('the session saved with the task', async () => (await engine.loadSession(reader.clientId))?.tasks[taskId]?.offset === 1);

    (reader.ws as unknown as { _socket: Socket })._socket.pause();
    const slowSockets = async () => (await gateway.gateway.metrics.registry.getSingleMetric('taskpulse_gateway_slow_sockets')?.get())?.values[0]?.value ?? 0;
    const message = 'm'.repeat(2000);
    // Enough to fill the kernel's buffers and then uWS's: the socket goes slow (conflated), with bytes unsent.
    let n = 0;
    for (; n < 40_000 && (n % 500 !== 0 || (await slowSockets()) === 0); n++) await publish(engine, progress(taskId, n + 1, message));
    expect(await slowSockets(), `the paused reader went slow after ${n} events`).toBe(1);
    const { offset: completedAt } = await publish(engine, { kind: 'complete', taskId });
    await new Promise((r) => setTimeout(r, 200)); // refreshes run meanwhile; none may save a position with unsent bytes counted

    (reader.ws as unknown as { _socket: Socket })._socket.destroy();
    await waitFor('the gateway to see the close', () => gateway.gateway.connectionCount() === 0);
    const saved = await waitFor('the final session', async () => engine.loadSession(reader.clientId));
    expect(saved.tasks[taskId]!.offset).toBeLessThan(completedAt);
    expect(reader.frames.some((f) => f.type === 'status' && f.payload.status === 'completed')).toBe(false);

    const back = await connectClient(gateway.wsUrl(`old_client_id=${reader.clientId}`));
    expect(back.frames[0]!.payload.restored_tasks).toEqual([taskId]);
    const done = await back.next((f) => f.type === 'status' && f.task_id === taskId && f.payload.status === 'completed');
    expect(done.offset).toBe(completedAt);
  }, 60_000);

  it('capToSaved keeps a task at its saved position, gives an unsaved task none, never moves one forward', () => {
    const now: ConnectionSession = {
      who: { userId: 'u' },
      tasks: { a: { offset: 90, epoch: 'e1' }, b: { offset: 5, epoch: 'e2' }, c: { offset: 3, epoch: 'e3' } },
    };
    const before: ConnectionSession = { who: { userId: 'u' }, tasks: { a: { offset: 40, epoch: 'e1' }, c: { offset: 7, epoch: 'e3' } } };
    expect(capToSaved(now, JSON.stringify(before)).tasks).toEqual({
      a: { offset: 40, epoch: 'e1' },
      b: { offset: 0, epoch: '' },
      c: { offset: 3, epoch: 'e3' },
    });
    expect(capToSaved(now, undefined).tasks).toEqual({ a: { offset: 0, epoch: '' }, b: { offset: 0, epoch: '' }, c: { offset: 0, epoch: '' } });
  });
});
