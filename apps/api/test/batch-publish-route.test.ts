/** POST /api/v1/events on both engines: many events of many tasks, each validated and answered on its own. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Engine } from '@taskpulse/engine';
import { build } from '../src/build';
import { BATCH_BODY_LIMIT, MAX_BATCH_EVENTS } from '../src/schemas';
import { ENGINE_MATRIX, closeEngines } from '@taskpulse/testkit/engines';

describe.each(ENGINE_MATRIX)('POST /api/v1/events on the $name engine', (backend) => {
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

  const send = (payload: unknown) => app.inject({ method: 'POST', url: '/api/v1/events', payload: payload as object });

  async function frames(taskId: string): Promise<any[]> {
    const page = await engine.history(taskId, 100);
    return (page?.frames ?? []).map((f) => JSON.parse(f.toString())).reverse();
  }

  it('publishes events of many tasks in order and answers each with its position', async () => {
    const events = [
      { type: 'start', task_id: 'a', user_id: 'user-1', project_id: 'p-1' },
      { type: 'start', task_id: 'b' },
      { type: 'progress', task_id: 'a', progress: 50, message: '正在转码视频...', current_step: '视频转码', completed_steps: 2, total_steps: 4 },
      { type: 'progress', task_id: 'b', progress: 10 },
      { type: 'complete', task_id: 'a', result: { video_url: 'https://example.com/v.mp4' } },
      { type: 'fail', task_id: 'b', error: 'disk full' },
      { type: 'start', task_id: 'c' },
      { type: 'cancel', task_id: 'c', reason: 'user asked' },
    ];
    const res = await send({ events });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ published: 8, failed: 0 });
    const epochA = (await engine.latest('a'))!.epoch;
    expect(body.results[0]).toEqual({ task_id: 'a', status: 201, offset: 1, epoch: epochA });
    expect(body.results.map((r: any) => [r.task_id, r.status, r.offset])).toEqual([
      ['a', 201, 1],
      ['b', 201, 1],
      ['a', 200, 2],
      ['b', 200, 2],
      ['a', 200, 3],
      ['b', 200, 3],
      ['c', 201, 1],
      ['c', 200, 2],
    ]);
    expect((await frames('a')).map((f) => f.type === 'progress' ? f.payload.progress : f.payload.status)).toEqual(['running', 50, 'completed']);
    expect((await frames('a'))[1].payload).toMatchObject({ current_step: '视频转码', completed_steps: 2, total_steps: 4 });
    expect((await frames('a'))[2].payload.result).toEqual({ video_url: 'https://example.com/v.mp4' });
    expect((await frames('b')).at(-1).payload).toMatchObject({ status: 'failed', error: 'disk full' });
    expect((await frames('c')).at(-1).payload).toMatchObject({ status: 'cancelled', error: 'user asked' });
    expect((await engine.latest('a'))!.fields.user_id).toBe('"user-1"');
  });

  it('answers bad and refused events on their own; the others are published', async () => {
    await send({ events: [{ type: 'start', task_id: 'done' }, { type: 'complete', task_id: 'done' }] });
    const res = await send({
      events: [
        { type: 'progress', task_id: 'ok', progress: 1 },
        { type: 'progress', task_id: 'ok', progress: 150 },
        { type: 'progress', task_id: 'ok' },
        { type: 'teleport', task_id: 'ok' },
        { task_id: 'ok' },
        { type: 'progress', task_id: 'bad id!', progress: 1 },
        { type: 'progress', task_id: 'ok', progress: 5, colour: 'red' },
        { type: 'progress', task_id: 'done', progress: 5 },
        { type: 'progress', task_id: 'ok', progress: 2, completed_steps: 5, total_steps: 4 },
        'not an object',
        { type: 'progress', task_id: 'ok', progress: 3 },
      ],
    });
    expect(res.statusCode).toBe(200);
    const { results, published, failed } = res.json();
    expect({ published, failed }).toEqual({ published: 2, failed: 9 });
    const brief = results.map((r: any) => [r.status, r.error?.code, r.error?.field]);
    expect(brief).toEqual([
      [200, undefined, undefined],
      [400, 'bad_request', 'progress'],
      [400, 'bad_request', 'progress'],
      [400, 'bad_request', 'type'],
      [400, 'bad_request', 'type'],
      [400, 'bad_request', 'task_id'],
      [400, 'bad_request', 'colour'],
      [409, 'task_finished', undefined],
      [400, 'bad_request', 'completed_steps'],
      [400, 'bad_request', 'event'],
      [200, undefined, undefined],
    ]);
    expect(results[1].error.message).toBe('progress must be <= 100');
    expect(results[3].error.message).toBe('type must be start, progress, complete, fail or cancel');
    expect(results[7].task_id).toBe('done');
    expect(results.at(-1)).toMatchObject({ task_id: 'ok', offset: 2 });
    expect((await frames('ok')).map((f) => f.payload.progress)).toEqual([1, 3]);
    expect((await frames('done')).length).toBe(2);
  });

  it('refuses the whole body with a clear 4xx when the envelope is wrong or too large', async () => {
    const tooMany = await send({ events: Array.from({ length: MAX_BATCH_EVENTS + 1 }, (_, i) => ({ type: 'progress', task_id: `t${i}`, progress: 1 })) });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().error).toMatchObject({ code: 'bad_request', field: 'events', message: `events must NOT have more than ${MAX_BATCH_EVENTS} items` });
    for (const [payload, field] of [
      [{}, 'events'],
      [{ events: [] }, 'events'],
      [{ events: {} }, 'events'],
      [{ events: [], extra: 1 }, 'extra'],
    ] as const) {
      const res = await send(payload);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.field).toBe(field);
    }
    const big = 'x'.repeat(2000);
    const huge = await send({ events: Array.from({ length: Math.ceil(BATCH_BODY_LIMIT / 2000) + 1 }, () => ({ type: 'progress', task_id: 't', progress: 1, message: big })) });
    expect(huge.statusCode).toBe(413);
    expect(huge.json().error.message).toMatch(/body/i);
    expect(await engine.latest('t0')).toBeNull();
    expect(await engine.latest('t')).toBeNull();
  });

  it('takes a full batch of the largest allowed size', async () => {
    const events = Array.from({ length: MAX_BATCH_EVENTS }, (_, i) => ({ type: 'progress', task_id: `bulk-${i % 50}`, progress: i % 100 }));
    const res = await send({ events });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ published: MAX_BATCH_EVENTS, failed: 0 });
    expect((await engine.latest('bulk-0'))!.offset).toBe(MAX_BATCH_EVENTS / 50);
  });
});
