/**
 * POST /api/v1/demo/jobs hands jobs to the DemoJobs the API was built with: a recording stand-in here
 * (the API runs no job itself), and the real BullMQ queue of createQueueDemoJobs on Redis. The worker
 * running them end to end is covered by start.test.ts (both modes) and the cluster e2e test.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Queue } from 'bullmq';
import { EngineUnavailableError } from '@taskpulse/engine';
import { build } from '../src/build';
import { createQueueDemoJobs, type DemoJobInput, type DemoJobs } from '../src/index';
import { testLogger } from '@taskpulse/testkit/engines';

const TASK_ID = /^video-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** DemoJobs that only records what it is given. */
function recordingJobs(fail?: Error): DemoJobs & { inputs: DemoJobInput[] } {
  const inputs: DemoJobInput[] = [];
  return {
    mode: 'recorded',
    inputs,
    enqueue: async (input) => {
      if (fail) throw fail;
      inputs.push(input);
      return { task_id: input.task_id };
    },
  };
}

let app: FastifyInstance | undefined;
const closers: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  await app?.close();
  app = undefined;
  for (const close of closers.splice(0)) await close();
});

describe('demo jobs through an injected DemoJobs', () => {
  it('answers 202 with a task id the API chose and hands over the validated input', async () => {
    const jobs = recordingJobs();
    app = await build({ demoJobs: jobs });
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/demo/jobs',
      payload: { user_id: 'user-123', project_id: 'project-456', fail_at_step: 3, step_ms: 25 },
    });
    expect(res.statusCode).toBe(202);
    const taskId = res.json().task_id;
    expect(taskId).toMatch(TASK_ID);
    expect(jobs.inputs).toEqual([{ task_id: taskId, user_id: 'user-123', project_id: 'project-456', fail_at_step: 3, step_ms: 25 }]);
    expect(await app.apiMetrics.registry.metrics()).toContain('taskpulse_api_demo_jobs_total{mode="recorded"} 1');
  });

  it('accepts an empty POST, and gives every job its own task id', async () => {
    const jobs = recordingJobs();
    app = await build({ demoJobs: jobs });
    const first = await app.inject({ method: 'POST', url: '/api/v1/demo/jobs' });
    const second = await app.inject({ method: 'POST', url: '/api/v1/demo/jobs', payload: {} });
    expect([first.statusCode, second.statusCode]).toEqual([202, 202]);
    expect(first.json().task_id).not.toBe(second.json().task_id);
    expect(jobs.inputs.map((input) => Object.keys(input))).toEqual([['task_id'], ['task_id']]);
  });

  it('refuses bad demo bodies naming the field, and enqueues nothing', async () => {
    const jobs = recordingJobs();
    app = await build({ demoJobs: jobs });
    for (const [body, field] of [
      [{ fail_at_step: 5 }, 'fail_at_step'],
      [{ fail_at_step: '2' }, 'fail_at_step'],
      [{ user_id: 'a b' }, 'user_id'],
      [{ task_id: 'chosen' }, 'task_id'],
      [{ step_ms: -1 }, 'step_ms'],
      [{ step_ms: 10_001 }, 'step_ms'],
    ] as const) {
      const res = await app.inject({ method: 'POST', url: '/api/v1/demo/jobs', payload: body });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.field).toBe(field);
    }
    expect(jobs.inputs).toEqual([]);
  });

  it('answers 404 when the API was built without demo jobs', async () => {
    app = await build();
    const res = await app.inject({ method: 'POST', url: '/api/v1/demo/jobs', payload: {} });
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toEqual({ code: 'not_found', message: 'demo jobs are not enabled on this server' });
  });

  it("maps the DemoJobs' failure like any other: an engine that is down is a 503", async () => {
    app = await build({ demoJobs: recordingJobs(new EngineUnavailableError('redis is down')), logger: testLogger });
    const res = await app.inject({ method: 'POST', url: '/api/v1/demo/jobs', payload: {} });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('unavailable');
  });
});

describe('createQueueDemoJobs', () => {
  it('puts the job on the BullMQ queue with the task id as job id', async () => {
    const url = inject('redisUrl');
    const queueName = `q${randomUUID().slice(0, 8)}`;
    const demoJobs = createQueueDemoJobs({ connection: { url }, queueName, logger: testLogger });
    const queue = new Queue(queueName, { connection: { url } });
    closers.push(() => demoJobs.close(), () => queue.obliterate({ force: true }).then(() => queue.close()));
    app = await build({ demoJobs, logger: testLogger });

    const res = await app.inject({ method: 'POST', url: '/api/v1/demo/jobs', payload: { user_id: 'user-123', fail_at_step: 2 } });
    expect(res.statusCode).toBe(202);
    const taskId = res.json().task_id;
    const job = await queue.getJob(taskId);
    expect(job?.data).toEqual({ task_id: taskId, user_id: 'user-123', fail_at_step: 2 });
    expect(await queue.getWaitingCount()).toBe(1);
    expect(await app.apiMetrics.registry.metrics()).toContain('taskpulse_api_demo_jobs_total{mode="queue"} 1');
  });
});
