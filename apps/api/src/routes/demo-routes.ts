/**
 * `POST /api/v1/demo/jobs`: one run of the guide's video_processing example, handed to the DemoJobs the
 * API was built with. Answers 202 with the task id to subscribe to; 404 when the API has no demo jobs.
 */
import type { FastifyPluginAsync } from 'fastify';
import { newDemoTaskId, type DemoJobInput, type DemoJobs } from '../demo-jobs';
import { ApiError } from '../error-handler';
import { demoJobBody, demoJobResponse, errorResponses } from '../schemas';

export interface DemoRoutesOptions {
  demoJobs?: DemoJobs;
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
      const { task_id } = await demoJobs.enqueue({ ...request.body, task_id: newDemoTaskId() });
      app.apiMetrics.demoJobs.labels(demoJobs.mode).inc();
      return reply.status(202).send({ task_id });
    },
  );
};
