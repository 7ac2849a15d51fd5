/**
 * `POST /api/v1/demo/jobs`: one run of the guide's video_processing example, handed to the DemoJobs the
 * API was built with. Answers 202 with the task id to subscribe to; 404 when the API has no demo jobs. The
 * start is broadcast to the job's project (or user), which is how the dashboard lists new tasks live.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { newDemoTaskId, type DemoJobInput, type DemoJobs } from '../demo-jobs';
import { ApiError } from '../error-handler';
import { demoJobBody, demoJobResponse, errorResponses } from '../schemas';

export interface DemoRoutesOptions {
  demoJobs?: DemoJobs;
}

/**
 * Tells the job's project (else its user) that a task started, so every dashboard of that project lists it
 * at once. A notification only: when it cannot be sent the job still runs, so the failure is logged, not answered.
 */
async function announce(app: FastifyInstance, taskId: string, input: Omit<DemoJobInput, 'task_id'>): Promise<void> {
  const msg = { progress: 0, message: 'demo job started' };
  try {
    if (input.project_id !== undefined) await app.reporter.broadcastToProject(input.project_id, taskId, msg);
    else if (input.user_id !== undefined) await app.reporter.broadcastToUser(input.user_id, taskId, msg);
  } catch (error) {
    app.log.warn({ err: error, taskId }, 'could not announce a demo job to its project');
  }
}

export const demoRoutes: FastifyPluginAsync<DemoRoutesOptions> = async (app, { demoJobs }) => {
  app.post<{ Body: Omit<DemoJobInput, 'task_id'> }>(
    '/api/v1/demo/jobs',
    {
      schema: { body: demoJobBody, response: { 202: demoJobResponse, ...errorResponses } },
      preValidation: async (request) => {
        if (request.body === undefined || request.body === null) request.body = {};
      },
    },
    async (request, reply) => {
      if (demoJobs === undefined) throw new ApiError(404, 'not_found', 'demo jobs are not enabled on this server');
      const taskId = newDemoTaskId();
      // Before the job runs, so a page that subscribes on the notice never sees its frames before it.
      await announce(app, taskId, request.body);
      const { task_id } = await demoJobs.enqueue({ ...request.body, task_id: taskId });
      app.apiMetrics.demoJobs.labels(demoJobs.mode).inc();
      return reply.status(202).send({ task_id });
    },
  );
};
