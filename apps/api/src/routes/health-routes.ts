/**
 * Probes and metrics: `/healthz` (the process answers), `/readyz` (the engine can serve: Redis connected
 * and subscribed), `/metrics` (the registry passed to build, in Prometheus text format).
 */
import type { FastifyPluginAsync } from 'fastify';
import { ApiError } from '../error-handler';
import { errorResponses, healthResponse } from '../schemas';

export const healthRoutes: FastifyPluginAsync = async (app) => {
  app.get('/healthz', { schema: { response: { 200: healthResponse } } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { response: { 200: healthResponse, ...errorResponses } } }, async () => {
    if (!app.engine.isReady()) throw new ApiError(503, 'unavailable', `the ${app.engine.kind} engine is not ready`);
    return { status: 'ready' };
  });

  app.get('/metrics', async (_request, reply) => {
    const { registry } = app.apiMetrics;
    return reply.type(registry.contentType).send(await registry.metrics());
  });
};
