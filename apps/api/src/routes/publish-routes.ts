/**
 * The reporter over HTTP: start, progress, complete, fail and cancel a task, and broadcast to a user's or
 * a project's connections. Every call goes through the reporter, which validates in full before anything
 * is written; the answer is where the event landed (`{task_id, offset, epoch}`) or how many received it.
 * `POST /api/v1/events` takes many events in one body (batch-publish-route.ts).
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Reported } from '@taskpulse/reporter';
import type { PublishResult } from '@taskpulse/engine';
import {
  broadcastBody,
  cancelBody,
  completeBody,
  deliveredResponse,
  errorResponses,
  failBody,
  progressBody,
  projectParams,
  publishedResponse,
  startBody,
  taskParams,
  userParams,
} from '../schemas';
import { batchPublishRoute } from './batch-publish-route';

interface TaskParams {
  task_id: string;
}

interface StepFields {
  progress: number;
  message?: string;
  current_step?: string;
  completed_steps?: number;
  total_steps?: number;
}

interface BroadcastBody extends StepFields {
  task_id: string;
}

function published(taskId: string, result: Reported | PublishResult) {
  // Only a dedupe key makes a publish a duplicate, and these routes never pass one.
  if (result.status !== 'published') throw new Error(`publish of ${taskId} reported a duplicate without a dedupe key`);
  return { task_id: taskId, offset: result.offset, epoch: result.epoch };
}

/** Lets a body-less POST (`curl -X POST …/cancel`) mean an empty object. */
async function emptyBodyIsObject(request: FastifyRequest): Promise<void> {
  if (request.body === undefined || request.body === null) request.body = {};
}

function schema(params: object, body: object, ok: 200 | 201, response: object = publishedResponse) {
  return { schema: { params, body, response: { [ok]: response, ...errorResponses } } };
}

/** The body's step fields under the reporter's (camelCase) names. */
function stepFields(body: StepFields) {
  return {
    progress: body.progress,
    message: body.message,
    currentStep: body.current_step,
    completedSteps: body.completed_steps,
    totalSteps: body.total_steps,
  };
}

export const publishRoutes: FastifyPluginAsync = async (app) => {
  const { reporter } = app;
  await app.register(batchPublishRoute);

  app.post<{ Params: TaskParams; Body: { user_id?: string; project_id?: string } }>(
    '/api/v1/tasks/:task_id/start',
    { ...schema(taskParams, startBody, 201), preValidation: emptyBodyIsObject },
    async (request, reply: FastifyReply) => {
      const { task_id: taskId } = request.params;
      const result = await reporter.notifyTaskStart(taskId, request.body.user_id, request.body.project_id);
      return reply.status(201).send(published(taskId, result));
    },
  );

  app.post<{ Params: TaskParams; Body: StepFields }>('/api/v1/progress/:task_id', schema(taskParams, progressBody, 200), async (request) => {
    const { task_id: taskId } = request.params;
    const { body } = request;
    const event = { kind: 'progress' as const, taskId, ...stepFields(body), timestamp: new Date().toISOString() };
    return published(taskId, await reporter.publish(event, { method: 'POST /api/v1/progress' }));
  });

  app.post<{ Params: TaskParams; Body: { result?: unknown } }>(
    '/api/v1/tasks/:task_id/complete',
    { ...schema(taskParams, completeBody, 200), preValidation: emptyBodyIsObject },
    async (request) => {
      const { task_id: taskId } = request.params;
      return published(taskId, await reporter.notifyTaskComplete(taskId, request.body.result));
    },
  );

  app.post<{ Params: TaskParams; Body: { error: string } }>('/api/v1/tasks/:task_id/fail', schema(taskParams, failBody, 200), async (request) => {
    const { task_id: taskId } = request.params;
    return published(taskId, await reporter.notifyTaskFailed(taskId, request.body.error));
  });

  app.post<{ Params: TaskParams; Body: { reason?: string } }>(
    '/api/v1/tasks/:task_id/cancel',
    { ...schema(taskParams, cancelBody, 200), preValidation: emptyBodyIsObject },
    async (request) => {
      const { task_id: taskId } = request.params;
      return published(taskId, await reporter.notifyTaskCancelled(taskId, request.body.reason));
    },
  );

  app.post<{ Params: { user_id: string }; Body: BroadcastBody }>(
    '/api/v1/broadcast/user/:user_id',
    schema(userParams, broadcastBody, 200, deliveredResponse),
    async (request) => ({
      delivered: await reporter.broadcastToUser(request.params.user_id, request.body.task_id, stepFields(request.body)),
    }),
  );

  app.post<{ Params: { project_id: string }; Body: BroadcastBody }>(
    '/api/v1/broadcast/project/:project_id',
    schema(projectParams, broadcastBody, 200, deliveredResponse),
    async (request) => ({
      delivered: await reporter.broadcastToProject(request.params.project_id, request.body.task_id, stepFields(request.body)),
    }),
  );
};
