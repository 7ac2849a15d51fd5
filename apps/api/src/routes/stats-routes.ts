/**
 * Stats: `GET /api/v1/progress/stats` (tasks of the last 24 h by status) and `GET /api/v1/websocket/stats`
 * (connections summed over the live gateway nodes, in the guide's shape plus `nodes`). The static
 * `/progress/stats` path wins over `/progress/:task_id` in the router, whatever the registration order.
 */
import type { FastifyPluginAsync } from 'fastify';
import { connectionStatsResponse, errorResponses, taskStatsResponse } from '../schemas';

export const statsRoutes: FastifyPluginAsync = async (app) => {
  app.get('/api/v1/progress/stats', { schema: { response: { 200: taskStatsResponse, ...errorResponses } } }, () =>
    app.engine.stats(),
  );
  app.get('/api/v1/websocket/stats', { schema: { response: { 200: connectionStatsResponse, ...errorResponses } } }, () =>
    app.engine.connectionStats(),
  );
};
