/** The publish endpoints on both engines: what each writes, and that bad input writes nothing. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Engine } from '@taskpulse/engine';
import { projectChannel, userChannel } from '@taskpulse/protocol';
import { build } from '../src/build';
import { ENGINE_MATRIX, openEngine, closeEngines } from '@taskpulse/testkit/engines';

describe.each(ENGINE_MATRIX)('publish routes on the $name engine', (backend) => {
  let engine: Engine;
  let app: FastifyInstance;

  beforeEach(async () => {
    engine = await backend.open();
    app = await build({ engine });
  });

  afterEach(async () => {
    await app.close();
    await closeEngines();
  });

  const post = (url: string, payload?: unknown) =>
    app.inject({ method: 'POST', url, ...(payload === undefined ? {} : { payload: payload as object }) });

  async function frames(taskId: string): Promise<any[]> {
    const page = await engine.history(taskId, 100);
    return (page?.frames ?? []).map((f) => JSON.parse(f.toString())).reverse();
  }

  it('start answers 201 with the position and writes a running status with the owner', async () => {
    const res = await post('/api/v1/tasks/task-1/start', { user_id: 'user-123', project_id: 'project-456' });
    expect(res.statusCode).toBe(201);
    const latest = await engine.latest('task-1');
    expect(res.json()).toEqual({ task_id: 'task-1', offset: 1, epoch: latest!.epoch });
    expect(await frames('task-1')).toEqual([expect.objectContaining({ type: 'status', offset: 1, payload: expect.objectContaining({ status: 'running' }) })]);
    expect(latest!.fields.user_id).toBe('"user-123"');
    expect(latest!.fields.project_id).toBe('"project-456"');
  });

  it('progress writes a progress frame with the given fields', async () => {
    await post('/api/v1/tasks/task-2/start', {});
    const body = { progress: 50, message: '正在转码视频...', current_step: '视频转码', completed_steps: 2, total_steps: 4 };
    const res = await post('/api/v1/progress/task-2', body);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ task_id: 'task-2', offset: 2 });
    const [, progress] = await frames('task-2');
    expect(progress).toMatchObject({ type: 'progress', task_id: 'task-2', offset: 2, payload: { ...body, status: 'running' } });
  });

  it('complete, fail and cancel write their status with result, error or reason', async () => {
    await post('/api/v1/tasks/c/start');
    expect((await post('/api/v1/tasks/c/complete', { result: { video_url: 'https://example.com/v.mp4' } })).statusCode).toBe(200);
    expect((await frames('c')).at(-1).payload).toMatchObject({ status: 'completed', result: { video_url: 'https://example.com/v.mp4' } });

    await post('/api/v1/tasks/f/start');
    expect((await post('/api/v1/tasks/f/fail', { error: '视频处理失败: 转码失败' })).statusCode).toBe(200);
    expect((await frames('f')).at(-1).payload).toMatchObject({ status: 'failed', error: '视频处理失败: 转码失败' });

    await post('/api/v1/tasks/x/start');
    const cancelled = await post('/api/v1/tasks/x/cancel', { reason: 'user asked' });
    expect(cancelled.json()).toMatchObject({ task_id: 'x', offset: 2 });
    expect((await frames('x')).at(-1).payload).toMatchObject({ status: 'cancelled', error: 'user asked' });

    await post('/api/v1/tasks/y/start');
    expect((await post('/api/v1/tasks/y/cancel')).statusCode).toBe(200);
    expect((await frames('y')).at(-1).payload.status).toBe('cancelled');
  });

  it('refuses progress on a finished task with 409 task_finished and writes nothing', async () => {
    await post('/api/v1/tasks/fin/start');
    await post('/api/v1/tasks/fin/complete', { result: 1 });
    const res = await post('/api/v1/progress/fin', { progress: 10, message: 'late' });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('task_finished');
    expect(await frames('fin')).toHaveLength(2);
    expect((await post('/api/v1/tasks/fin/start')).statusCode).toBe(201);
    expect((await post('/api/v1/progress/fin', { progress: 10 })).statusCode).toBe(200);
  });

  it('broadcasts to the user and to the project channel', async () => {
    const seen: Array<[string, string]> = [];
    const listener = (channel: string, frame: Buffer) => seen.push([channel, frame.toString()]);
    const users = userChannel(engine.prefix, 'user-123');
    const projects = projectChannel(engine.prefix, 'project-789');
    await engine.subscribe(users, listener);
    await engine.subscribe(projects, listener);
    try {
      const toUser = await post('/api/v1/broadcast/user/user-123', { task_id: 'task-456', progress: 50, message: '处理中...' });
      expect(toUser.statusCode).toBe(200);
      expect(toUser.json()).toEqual({ delivered: 1 });
      const toProject = await post('/api/v1/broadcast/project/project-789', { task_id: 'task-456', progress: 75, message: '即将完成' });
      expect(toProject.json()).toEqual({ delivered: 1 });
      await expect.poll(() => seen.length).toBe(2);
      // two channels: on a Redis Cluster they may live on two shards, so their frames need not keep publish order
      seen.sort(([a], [b]) => (a === users ? 0 : 1) - (b === users ? 0 : 1));
      const [[c1, f1], [c2, f2]] = seen as [[string, string], [string, string]];
      expect(c1).toBe(users);
      expect(JSON.parse(f1)).toMatchObject({ type: 'progress', task_id: 'task-456', scope: 'user', payload: { progress: 50, message: '处理中...' } });
      expect(c2).toBe(projects);
      expect(JSON.parse(f2)).toMatchObject({ scope: 'project', payload: { progress: 75, message: '即将完成' } });
      expect(await engine.latest('task-456')).toBeNull();
    } finally {
      await engine.unsubscribe(users, listener);
      await engine.unsubscribe(projects, listener);
    }
  });

  const badBodies: Array<[string, unknown, string]> = [
    ['/api/v1/tasks/bad/start', { user_id: 'has space' }, 'user_id'],
    ['/api/v1/tasks/bad/start', { project_id: 7 }, 'project_id'],
    ['/api/v1/tasks/bad/start', { owner: 'u1' }, 'owner'],
    ['/api/v1/progress/bad', { message: 'no progress' }, 'progress'],
    ['/api/v1/progress/bad', { progress: 101 }, 'progress'],
    ['/api/v1/progress/bad', { progress: -1 }, 'progress'],
    ['/api/v1/progress/bad', { progress: '50' }, 'progress'],
    ['/api/v1/progress/bad', { progress: 5, message: 'x'.repeat(2049) }, 'message'],
    ['/api/v1/progress/bad', { progress: 5, current_step: 3 }, 'current_step'],
    ['/api/v1/progress/bad', { progress: 5, total_steps: 1.5 }, 'total_steps'],
    ['/api/v1/progress/bad', { progress: 5, completed_steps: 5, total_steps: 4 }, 'completed_steps'],
    ['/api/v1/progress/bad', [1, 2], 'body'],
    ['/api/v1/tasks/bad/complete', { result: { blob: 'x'.repeat(70_000) } }, 'result'],
    ['/api/v1/tasks/bad/fail', {}, 'error'],
    ['/api/v1/tasks/bad/fail', { error: '' }, 'error'],
    ['/api/v1/tasks/bad/cancel', { reason: 5 }, 'reason'],
    ['/api/v1/broadcast/user/u1', { progress: 5 }, 'task_id'],
    ['/api/v1/broadcast/user/u1', { task_id: 'bad}id', progress: 5 }, 'task_id'],
    ['/api/v1/broadcast/user/bad%20user', { task_id: 'bad', progress: 5 }, 'user_id'],
    ['/api/v1/broadcast/project/p1', { task_id: 'bad', progress: 500 }, 'progress'],
    ['/api/v1/tasks/bad%7B/start', {}, 'task_id'],
  ];

  it.each(badBodies)('POST %s %j → 400 naming %s, nothing written', async (url, body, field) => {
    const seen: string[] = [];
    const listener = (_channel: string, frame: Buffer) => seen.push(frame.toString());
    await engine.subscribe(userChannel(engine.prefix, 'u1'), listener);
    await engine.subscribe(projectChannel(engine.prefix, 'p1'), listener);
    const res = await post(url, body);
    expect(res.statusCode).toBe(400);
    const { error } = res.json();
    expect(error).toMatchObject({ code: 'bad_request', field });
    expect(error.message).toContain(field);
    expect(await engine.latest('bad')).toBeNull();
    expect(await engine.history('bad', 100)).toBeNull();
    expect(seen).toEqual([]);
    await engine.unsubscribe(userChannel(engine.prefix, 'u1'), listener);
    await engine.unsubscribe(projectChannel(engine.prefix, 'p1'), listener);
  });

  it('refuses unparsable JSON and oversized bodies without writing', async () => {
    const invalid = await app.inject({ method: 'POST', url: '/api/v1/progress/bad', headers: { 'content-type': 'application/json' }, payload: '{"progress":' });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().error).toMatchObject({ code: 'bad_request', field: 'body' });
    const huge = await post('/api/v1/tasks/bad/complete', { result: 'x'.repeat(200 * 1024) });
    expect(huge.statusCode).toBe(413);
    expect(huge.json().error).toMatchObject({ code: 'bad_request', field: 'body' });
    expect(await engine.latest('bad')).toBeNull();
  });
});

describe('publish routes when the engine is unavailable', () => {
  it('answers 503 unavailable and writes nothing', async () => {
    const engine = await openEngine('memory');
    const app = await build({ engine });
    await engine.close();
    const res = await app.inject({ method: 'POST', url: '/api/v1/tasks/t/start', payload: {} });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('unavailable');
    expect((await app.inject('/readyz')).statusCode).toBe(503);
    expect(await engine.latest('t')).toBeNull();
    await app.close();
  });
});
