/** POST /api/v1/demo/jobs: in process on the memory engine, and on a real BullMQ queue with a worker. */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Worker } from 'bullmq';
import { createMemoryEngine, createRedisEngine, type Engine } from '@taskpulse/engine';
import { createReporter } from '@taskpulse/reporter';
import { waitFor } from '@taskpulse/testkit';
import { startVideoWorker } from '@taskpulse/worker';
import { build } from '../src/build';
import { randomPrefix, silentLogger } from './engines';

const GUIDE = ['running', '下载视频', '视频转码', '生成缩略图', '上传视频', 'completed'];

async function sequence(app: FastifyInstance, taskId: string): Promise<string[]> {
  const res = await app.inject(`/api/v1/progress/${taskId}/history?limit=100`);
  if (res.statusCode !== 200) return [];
  return res
    .json()
    .items.reverse()
    .map((f: any) => (f.type === 'status' ? f.payload.status : f.payload.current_step));
}

const finished = (app: FastifyInstance, taskId: string) =>
  waitFor(`task ${taskId} to finish`, async () => {
    const seq = await sequence(app, taskId);
    return ['completed', 'failed'].includes(seq.at(-1) ?? '') ? seq : null;
  }, 20_000);

let app: FastifyInstance | undefined;
let engine: Engine | undefined;
let worker: Worker | undefined;

afterEach(async () => {
  await app?.close();
  await worker?.close();
  await engine?.close();
  app = engine = worker = undefined;
});

describe('demo jobs without Redis', () => {
  it('answers 202 with a task id once started, and runs the guide sequence in process', async () => {
    engine = createMemoryEngine();
    app = await build({ engine, stepMs: 5 });
    const res = await app.inject({ method: 'POST', url: '/api/v1/demo/jobs', payload: { user_id: 'user-123', project_id: 'project-456' } });
    expect(res.statusCode).toBe(202);
    const taskId = res.json().task_id;
    expect((await app.inject(`/api/v1/progress/${taskId}`)).json()).toMatchObject({ status: 'running', user_id: 'user-123' });
    expect(await finished(app, taskId)).toEqual(GUIDE);
    expect(await app.apiMetrics.registry.metrics()).toContain('taskpulse_api_demo_jobs_total{mode="in-process"} 1');
  });

  it('accepts an empty POST and fails at the asked step with the cause chain', async () => {
    engine = createMemoryEngine();
    app = await build({ engine, stepMs: 5 });
    expect((await app.inject({ method: 'POST', url: '/api/v1/demo/jobs' })).statusCode).toBe(202);
    const res = await app.inject({ method: 'POST', url: '/api/v1/demo/jobs', payload: { fail_at_step: 1 } });
    const taskId = res.json().task_id;
    expect(await finished(app, taskId)).toEqual(['running', '下载视频', 'failed']);
    expect((await app.inject(`/api/v1/progress/${taskId}`)).json().error).toBe('视频处理失败: 下载视频失败: 连接视频源超时');
  });

  it('refuses bad demo bodies naming the field', async () => {
    app = await build({ stepMs: 5 });
    for (const [body, field] of [
      [{ fail_at_step: 5 }, 'fail_at_step'],
      [{ user_id: 'a b' }, 'user_id'],
      [{ task_id: 'chosen' }, 'task_id'],
    ] as const) {
      const res = await app.inject({ method: 'POST', url: '/api/v1/demo/jobs', payload: body });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.field).toBe(field);
    }
    expect((await app.inject('/api/v1/progress/stats')).json().tasks).toBe(0);
  });
});

describe('demo jobs with Redis', () => {
  it('enqueues on the BullMQ demo queue, where the video worker runs the guide sequence', async () => {
    const url = inject('redisUrl');
    const demoQueue = `q${randomUUID().slice(0, 8)}`;
    const redis = createRedisEngine({ url, prefix: randomPrefix(), logger: silentLogger });
    engine = redis;
    await redis.ready();
    const reporter = createReporter(engine);
    worker = startVideoWorker({ connection: { url }, reporter, logger: silentLogger, queueName: demoQueue, stepMs: 5 });
    app = await build({ engine, reporter, redisUrl: url, demoQueue, logger: silentLogger });
    expect(app.demoJobs.mode).toBe('queue');
    const ok = await app.inject({ method: 'POST', url: '/api/v1/demo/jobs', payload: { user_id: 'user-123' } });
    expect(ok.statusCode).toBe(202);
    const bad = await app.inject({ method: 'POST', url: '/api/v1/demo/jobs', payload: { fail_at_step: 2 } });
    expect(await finished(app, ok.json().task_id)).toEqual(GUIDE);
    expect(await finished(app, bad.json().task_id)).toEqual(['running', '下载视频', '视频转码', 'failed']);
    expect((await app.inject(`/api/v1/progress/${bad.json().task_id}`)).json().error).toBe('视频处理失败: 视频转码失败: ffmpeg 退出，代码 1');
  });
});
