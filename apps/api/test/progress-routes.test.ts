/** GET /api/v1/progress/:task_id and .../history on both engines, through app.inject(). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Engine, TaskSnapshot } from '@taskpulse/engine';
import { encodeTaskEvent } from '@taskpulse/protocol';
import { createReporter, type ProgressReporter } from '@taskpulse/reporter';
import { build } from '../src/build';
import { ENGINE_MATRIX, closeEngines } from '@taskpulse/testkit/engines';

/**
 * The progress body as the API built it before it was concatenated: every field JSON.parsed, defaults for
 * absent ones, serialised in the response schema's order (fast-json-stringify writes what JSON.stringify does).
 */
function parsedAndSerialised(snapshot: TaskSnapshot): string {
  const f = snapshot.fields;
  const read = (text: string | undefined, fallback: unknown): unknown => (text === undefined ? fallback : JSON.parse(text));
  const view: Record<string, unknown> = {
    task_id: snapshot.taskId,
    progress: read(f.progress, 0),
    current_step: read(f.current_step, ''),
    total_steps: read(f.total_steps, 0),
    completed_steps: read(f.completed_steps, 0),
    message: read(f.message, ''),
    status: read(f.status, 'pending'),
    timestamp: read(f.timestamp, ''),
  };
  for (const name of ['result', 'error', 'user_id', 'project_id'] as const) {
    if (f[name] !== undefined) view[name] = read(f[name], undefined);
  }
  return JSON.stringify({ ...view, offset: snapshot.offset, epoch: snapshot.epoch });
}

const TRICKY = 'ünïcödé 😀 "quoted" back\\slash\nnew line\ttab \u2028 \u0001 </script> },{"x":1}';

describe.each(ENGINE_MATRIX)('progress routes on the $name engine', (backend) => {
  let engine: Engine;
  let reporter: ProgressReporter;
  let app: FastifyInstance;

  beforeEach(async () => {
    engine = await backend.open();
    reporter = createReporter(engine);
    app = await build({ engine });
  });

  afterEach(async () => {
    await app.close();
    await closeEngines();
  });

  const get = (url: string) => app.inject({ method: 'GET', url });

  it('answers 404 with a JSON error for an unknown task, on both reads', async () => {
    for (const url of ['/api/v1/progress/never-seen', '/api/v1/progress/never-seen/history']) {
      const res = await get(url);
      expect(res.statusCode).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.json()).toEqual({ error: { code: 'not_found', message: expect.stringContaining('never-seen') } });
    }
  });

  it('answers 400 naming task_id for a bad task id', async () => {
    for (const bad of ['bad%20id', 'a%7Bb%7D', 'x'.repeat(129)]) {
      for (const url of [`/api/v1/progress/${bad}`, `/api/v1/progress/${bad}/history`]) {
        const res = await get(url);
        expect(res.statusCode, url).toBe(400);
        expect(res.json().error).toMatchObject({ code: 'bad_request', field: 'task_id' });
        expect(res.json().error.message).toContain('task_id');
      }
    }
    expect((await get(`/api/v1/progress/${'x'.repeat(128)}`)).statusCode).toBe(404);
  });

  it("returns the latest progress in the guide's shape with owner, offset and epoch", async () => {
    await reporter.notifyTaskStart('task-123', 'user-123', 'project-456');
    const last = await reporter.updateProgressWithSteps('task-123', '上传视频', 3, 4, '正在上传视频...');
    const res = await get('/api/v1/progress/task-123');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      task_id: 'task-123',
      progress: 75,
      current_step: '上传视频',
      total_steps: 4,
      completed_steps: 3,
      message: '正在上传视频...',
      status: 'running',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      user_id: 'user-123',
      project_id: 'project-456',
      offset: last.offset,
      epoch: last.epoch,
    });
  });

  it('includes the result once completed and the error once failed', async () => {
    await reporter.notifyTaskStart('done-1');
    await reporter.notifyTaskComplete('done-1', { video_url: 'https://example.com/video.mp4' });
    const done = (await get('/api/v1/progress/done-1')).json();
    expect(done).toMatchObject({ status: 'completed', progress: 100, result: { video_url: 'https://example.com/video.mp4' } });
    expect(done).not.toHaveProperty('error');

    await reporter.notifyTaskStart('failed-1');
    await reporter.notifyTaskFailed('failed-1', new Error('视频处理失败', { cause: new Error('disk full') }));
    const failed = (await get('/api/v1/progress/failed-1')).json();
    expect(failed).toMatchObject({ status: 'failed', error: '视频处理失败: disk full' });
    expect(failed).not.toHaveProperty('result');
  });

  it('sends the latest progress as the same bytes the parse-and-serialise path gave, defaults included', async () => {
    const bodyOf = async (taskId: string) => {
      const res = await get(`/api/v1/progress/${taskId}`);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.body));
      expect(res.body).toBe(parsedAndSerialised((await engine.snapshot(taskId))!));
      return res.json();
    };
    await reporter.notifyTaskStart('bytes-1', 'user-1', 'project-1');
    await reporter.updateProgressWithSteps('bytes-1', '步骤 "1"', 1, 3, TRICKY);
    expect((await bodyOf('bytes-1')).message).toBe(TRICKY);
    await reporter.notifyTaskComplete('bytes-1', { nested: [1, 2.5, null, true, { deep: TRICKY }], empty: {} });
    expect(Object.keys(await bodyOf('bytes-1'))).toEqual([
      'task_id', 'progress', 'current_step', 'total_steps', 'completed_steps', 'message', 'status', 'timestamp',
      'result', 'user_id', 'project_id', 'offset', 'epoch',
    ]);
    await reporter.notifyTaskFailed('bytes-1', new Error(TRICKY));
    expect(await bodyOf('bytes-1')).toMatchObject({ status: 'failed', error: TRICKY });
    // a task that never started: only status, progress and timestamp are stored, the rest take the defaults
    await engine.publish(encodeTaskEvent({ kind: 'complete', taskId: 'bytes-2' }));
    expect(await bodyOf('bytes-2')).toMatchObject({ current_step: '', total_steps: 0, completed_steps: 0, message: '', status: 'completed' });
  });

  it('sends history as the head, the engine page items as they are, and a closing brace', async () => {
    await reporter.notifyTaskStart('bytes-h');
    for (let i = 1; i <= 3; i++) await reporter.updateProgress('bytes-h', i, `${TRICKY} ${i}`);
    await reporter.notifyTaskComplete('bytes-h', [{ type: 'progress' }, TRICKY]);
    const res = await get('/api/v1/progress/bytes-h/history?limit=4');
    const page = (await engine.history('bytes-h', 4))!;
    const head = `{"task_id":"bytes-h","epoch":"${page.epoch}","offset":5,"items":`;
    expect(res.rawPayload).toEqual(Buffer.concat([Buffer.from(head), page.items, Buffer.from('}')]));
    expect(res.body).toBe(JSON.stringify(res.json()));
    expect(res.json().items.map((f: { offset: number }) => f.offset)).toEqual([5, 4, 3, 2]);
  });

  it('serves history newest first, 20 by default, 1 and 100 on request, as the stored frames', async () => {
    await reporter.notifyTaskStart('hist-1');
    for (let i = 1; i <= 24; i++) await reporter.updateProgress('hist-1', i, `step ${i}`);
    const res = await get('/api/v1/progress/hist-1/history');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = res.json();
    expect(body).toMatchObject({ task_id: 'hist-1', offset: 25, epoch: expect.any(String) });
    expect(body.items.map((f: { offset: number }) => f.offset)).toEqual(Array.from({ length: 20 }, (_, i) => 25 - i));
    const page = await engine.history('hist-1', 20);
    expect(res.body).toContain(`"items":[${page!.frames.map((f) => f.toString()).join(',')}]}`);

    const one = (await get('/api/v1/progress/hist-1/history?limit=1')).json();
    expect(one.items).toHaveLength(1);
    expect(one.items[0]).toMatchObject({ type: 'progress', offset: 25, payload: { progress: 24, message: 'step 24' } });
    const all = (await get('/api/v1/progress/hist-1/history?limit=100')).json();
    expect(all.items).toHaveLength(25);
    expect(all.items.at(-1)).toMatchObject({ type: 'status', offset: 1, payload: { status: 'running' } });
  });

  it('refuses limits outside 1..100 with a 400 naming limit', async () => {
    await reporter.notifyTaskStart('hist-2');
    for (const limit of ['0', '101', 'abc', '-1', '2.5']) {
      const res = await get(`/api/v1/progress/hist-2/history?limit=${limit}`);
      expect(res.statusCode, limit).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'bad_request', field: 'limit' });
    }
  });

  it('keeps at most 100 entries after 150 events, newest first', async () => {
    await reporter.notifyTaskStart('hist-150');
    for (let i = 1; i < 150; i++) await reporter.updateProgress('hist-150', (i / 150) * 100, `event ${i}`);
    const body = (await get('/api/v1/progress/hist-150/history?limit=100')).json();
    expect(body.offset).toBe(150);
    const offsets = body.items.map((f: { offset: number }) => f.offset);
    expect(offsets).toEqual(Array.from({ length: 100 }, (_, i) => 150 - i));
  });

  it('does not take "stats" for a task id', async () => {
    const res = await get('/api/v1/progress/stats');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toHaveProperty('by_status');
  });
});
