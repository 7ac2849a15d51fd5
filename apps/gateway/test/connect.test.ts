/** Connecting: the connected frame, identity validation, the guide's own client snippets, and the HTTP routes. */
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { waitFor, connectClient, refusedUpgrade, runConnectSnippet, runReconnectSnippet } from '@taskpulse/testkit';
import { ENGINE_MATRIX, openEngine } from '@taskpulse/testkit/engines';
import { encodeBroadcastFrame, taskChannel, userChannel } from '@taskpulse/protocol';
import { closeAllAfterEach, startGateway } from './support/gateways';
import { instrument, progress, publish } from './support/engines';

closeAllAfterEach();

describe.each(ENGINE_MATRIX)('connecting ($name engine)', (backend) => {
  async function setup() {
    const engine = instrument(await backend.open());
    return { engine, ...(await startGateway({ engine })) };
  }

  it('greets every connection with a connected frame carrying an unguessable client id', async () => {
    const { wsUrl } = await setup();
    const a = await connectClient(wsUrl('user_id=user-1&project_id=project-1'));
    const b = await connectClient(wsUrl('user_id=user-1&project_id=project-1'));
    expect(a.frames[0]).toEqual({ type: 'connected', payload: { client_id: a.clientId, user_id: 'user-1', project_id: 'project-1' } });
    expect(a.clientId).toMatch(/^[0-9a-f]{32}$/);
    expect(b.clientId).toMatch(/^[0-9a-f]{32}$/);
    expect(a.clientId).not.toBe(b.clientId);
  });

  it('accepts a connection without ids, and the guide reconnect URL with only old_client_id', async () => {
    const { wsUrl } = await setup();
    const anonymous = await connectClient(wsUrl());
    expect(anonymous.frames[0]).toEqual({ type: 'connected', payload: { client_id: anonymous.clientId } });
    const again = await connectClient(wsUrl(`old_client_id=${anonymous.clientId}`));
    expect(again.clientId).not.toBe(anonymous.clientId);
    expect(again.frames[0]!.payload).toEqual({ client_id: again.clientId });
    expect((await refusedUpgrade(wsUrl('old_client_id=not%20an%20id'))).status).toBe(400);
  });

  it('gives a reconnect with only old_client_id the identity of the closed connection, and its broadcasts', async () => {
    const { engine, wsUrl } = await setup();
    const first = await connectClient(wsUrl('user_id=user-123&project_id=project-456'));
    await first.close();
    const back = await connectClient(wsUrl(`old_client_id=${first.clientId}`));
    expect(back.frames[0]!.payload).toEqual({ client_id: back.clientId, user_id: 'user-123', project_id: 'project-456', restored_tasks: [] });
    expect(back.clientId).not.toBe(first.clientId);
    const frame = encodeBroadcastFrame('user', 'task-456', { progress: 50, message: 'after reconnect' });
    await waitFor('the user channel live', async () => (await engine.broadcast(userChannel(engine.prefix, 'user-123'), frame)) > 0);
    await back.next((f) => f.payload?.message === 'after reconnect');
    // Ids in the URL win over the session; an unknown id connects anonymously.
    const explicit = await connectClient(wsUrl(`old_client_id=${first.clientId}&user_id=someone-else`));
    expect(explicit.frames[0]!.payload).toEqual({ client_id: explicit.clientId, user_id: 'someone-else' });
    const unknown = await connectClient(wsUrl(`old_client_id=${'0'.repeat(32)}`));
    expect(unknown.frames[0]!.payload).toEqual({ client_id: unknown.clientId });
  });

  it('answers a bad user_id or project_id with HTTP 400 and a JSON error naming it', async () => {
    const { wsUrl, gateway } = await setup();
    const badUser = await refusedUpgrade(wsUrl('user_id=has%20space'));
    expect(badUser.status).toBe(400);
    const body = JSON.parse(badUser.body);
    expect(body.error.code).toBe('bad_request');
    expect(body.error.message).toMatch(/^user_id /);
    expect(body.error.field).toBe('user_id');
    const empty = await refusedUpgrade(wsUrl('user_id=&project_id=p1'));
    expect(empty.status).toBe(400);
    expect(JSON.parse(empty.body).error.message).toBe('user_id must not be empty');
    const badProject = await refusedUpgrade(wsUrl(`user_id=u1&project_id=${'x'.repeat(129)}`));
    expect(badProject.status).toBe(400);
    expect(JSON.parse(badProject.body).error.message).toMatch(/^project_id must be at most 128 characters/);
    expect(gateway.connectionCount()).toBe(0);
  });

  it('runs the guide connect-and-subscribe snippet verbatim: connected, progress and status reach the page', async () => {
    const { engine, port } = await setup();
    const taskId = 'task-guide-1';
    const progressSeen: any[] = [];
    const statusSeen: any[] = [];
    const guide = runConnectSnippet(`127.0.0.1:${port}`, {
      updateProgress: (payload) => progressSeen.push(payload),
      updateStatus: (payload) => statusSeen.push(payload),
    });
    const frames: any[] = [];
    guide.ws().on('message', (data) => frames.push(JSON.parse(data.toString())));
    await waitFor('connected', () => frames.some((f) => f.type === 'connected'));
    expect(frames[0].payload).toMatchObject({ user_id: 'user-123', project_id: 'project-456' });

    guide.subscribeTask(taskId);
    await waitFor('subscribe ack', () => frames.some((f) => f.type === 'ack' && f.task_id === taskId));
    await waitFor('task channel live', () => engine.registrations(taskChannel(engine.prefix, taskId)) === 1);
    await publish(engine, { kind: 'start', taskId, userId: 'user-123', projectId: 'project-456' });
    await publish(engine, progress(taskId, 40, '正在上传视频...'));
    await waitFor('progress on the page', () => progressSeen.length === 1);
    expect(statusSeen[0]).toMatchObject({ task_id: taskId, status: 'running' });
    expect(progressSeen[0]).toMatchObject({ task_id: taskId, progress: 40, message: '正在上传视频...', status: 'running' });

    guide.unsubscribeTask!(taskId);
    await waitFor('unsubscribe ack', () => frames.some((f) => f.type === 'ack' && f.action === 'unsubscribe'));
    await publish(engine, { kind: 'complete', taskId, result: { url: 'x' } });
    guide.subscribeTask('task-guide-2');
    await waitFor('second ack', () => frames.some((f) => f.type === 'ack' && f.task_id === 'task-guide-2'));
    expect(statusSeen).toHaveLength(1);
    guide.ws().close();
  });

  it('runs the guide reconnect snippet verbatim: it reconnects with old_client_id and resubscribes', async () => {
    const { engine, port, gateway } = await setup();
    const taskId = 'task-guide-reconnect';
    const messages: any[] = [];
    const timers: Array<() => void> = [];
    const guide = runReconnectSnippet(`127.0.0.1:${port}`, (m) => messages.push(m), (fn) => timers.push(fn));
    guide.connectWebSocket!();
    await waitFor('connected', () => messages.some((m) => m.type === 'connected'));
    guide.subscribeTask(taskId);
    await waitFor('ack', () => messages.some((m) => m.type === 'ack' && m.task_id === taskId));
    const firstId = messages.find((m) => m.type === 'connected').payload.client_id;

    guide.ws().close();
    await waitFor('reconnect scheduled', () => timers.length === 1);
    timers.shift()!();
    await waitFor('second connected', () => messages.filter((m) => m.type === 'connected').length === 2);
    // The snippet's own resubscribe, right after `connected`, claims the session's task (pending-restore.ts): one ack, one subscription.
    await waitFor('resubscribed', () => messages.filter((m) => m.type === 'ack' && m.task_id === taskId).length === 2);
    await new Promise((r) => setTimeout(r, 300)); // past the restore grace: no second restore of the task
    expect(messages.filter((m) => m.type === 'ack' && m.task_id === taskId)).toHaveLength(2);
    expect(messages.filter((m) => m.type === 'connected')[1].payload.restored_tasks).toEqual([taskId]);
    expect(messages.filter((m) => m.type === 'connected')[1].payload.client_id).not.toBe(firstId);
    await waitFor('one connection left', () => gateway.connectionCount() === 1);
    await publish(engine, { kind: 'start', taskId });
    await waitFor('status after reconnect', () => messages.some((m) => m.type === 'status' && m.task_id === taskId));
    await new Promise((r) => setTimeout(r, 100)); // a duplicate would arrive now
    expect(messages.filter((m) => m.type === 'status' && m.task_id === taskId)).toHaveLength(1);
    guide.ws().onclose = null;
    guide.ws().close();
  });
});

describe('HTTP routes', () => {
  it('serves /healthz, /readyz (503 once the engine is down) and /metrics with the gateway metrics', async () => {
    const engine = await openEngine('memory');
    const { httpUrl, wsUrl } = await startGateway({ engine });
    expect((await fetch(httpUrl('/healthz'))).status).toBe(200);
    const ready = await fetch(httpUrl('/readyz'));
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', engine: true, listening: true, draining: false });

    const client = await connectClient(wsUrl('user_id=u1'));
    client.sendRaw('not json');
    await client.next((f) => f.type === 'error');
    const taskId = 'task-metrics';
    client.send({ action: 'subscribe', task_id: taskId });
    await client.next((f) => f.type === 'ack');
    await publish(engine, { kind: 'start', taskId });
    await client.next((f) => f.type === 'status');
    const metrics = await (await fetch(httpUrl('/metrics'))).text();
    expect(metrics).toMatch(/^taskpulse_gateway_connections 1$/m);
    expect(metrics).toMatch(/^taskpulse_gateway_subscriptions 1$/m);
    expect(metrics).toMatch(/^taskpulse_gateway_frames_fanned_out_total\{kind="task"\} 1$/m);
    expect(metrics).toMatch(/^taskpulse_gateway_frames_fanned_out_total\{kind="user"\} 0$/m);
    expect(metrics).toMatch(/^taskpulse_gateway_errors_total\{code="bad_request"\} 1$/m);
    expect(metrics).toMatch(/^taskpulse_gateway_slow_consumer_closes_total 0$/m);
    expect(metrics).not.toContain(taskId);

    await engine.close();
    const notReady = await fetch(httpUrl('/readyz'));
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({ status: 'not_ready', engine: false });
    expect((await fetch(httpUrl('/healthz'))).status).toBe(200);
  });

  it('answers other routes with a JSON 404, or hands them to the fallback', async () => {
    const engine = await openEngine('memory');
    const plain = await startGateway({ engine });
    const missing = await fetch(plain.httpUrl('/api/v1/progress/x'));
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as any).error.code).toBe('not_found');
    expect((await fetch(plain.httpUrl('/api/v1/ws'))).status).toBe(404);

    const forwarded = await startGateway({
      engine,
      metricsRegistry: new Registry(),
      fallback: (res, req) => {
        const url = req.getUrl();
        res.cork(() => res.writeStatus('202 Accepted').end(`forwarded ${url}`));
      },
    });
    const answer = await fetch(forwarded.httpUrl('/api/v1/progress/x'));
    expect(answer.status).toBe(202);
    expect(await answer.text()).toBe('forwarded /api/v1/progress/x');
    expect((await fetch(forwarded.httpUrl('/healthz'))).status).toBe(200);
  });
});
