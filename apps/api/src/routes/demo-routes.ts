/**
 * `POST /api/v1/demo/jobs`: one run of the guide's video_processing example, on the BullMQ demo queue
 * with Redis or in this process without. Answers 202 with the task id to subscribe to.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { VideoJobData } from '@taskpulse/worker';
import { demoJobBody, demoJobResponse, errorResponses } from '../schemas';

export const demoRoutes: FastifyPluginAsync = async (app) => {
  app.post<{ Body: Omit<VideoJobData, 'task_id'> }>(
    '/api/v1/demo/jobs',
    {
      schema: { body: demoJobBody, response: { 202: demoJobResponse, ...errorResponses } },
      preValidation: async (request) => {
        if (request.body === undefined || request.body === null) request.body = {};
      },
    },
    async (request, reply) => {
      const { taskId } = await app.demoJobs.enqueue(request.body);
      app.apiMetrics.demoJobs.labels(app.demoJobs.mode).inc();
      return reply.status(202).send({ task_id: taskId });
    },
  );
};
