/**
 * The API as a Fastify instance, built apart from `listen` (tests use `app.inject()`, the all-in-one
 * start script forwards the gateway's HTTP requests to it). Plugins: metrics, engine + reporter, BullMQ
 * jobs; then the routes. Bodies are validated strictly (no coercion, no unknown fields); params and
 * query strings are coerced (`?limit=20` is a number).
 */
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { Ajv } from 'ajv';
import type { ConnectionOptions } from 'bullmq';
import type { Engine } from '@taskpulse/engine';
import type { ProgressReporter } from '@taskpulse/reporter';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import type { DemoJobs } from './demo-queue';
import { ApiError, registerErrorHandling } from './error-handler';
import { createApiMetrics, instrumentRequests, type ApiMetrics } from './metrics';
import { enginePlugin } from './plugins/engine-plugin';
import { jobsPlugin } from './plugins/jobs-plugin';
import { demoRoutes } from './routes/demo-routes';
import { healthRoutes } from './routes/health-routes';
import { progressRoutes } from './routes/progress-routes';
import { publishRoutes } from './routes/publish-routes';
import { statsRoutes } from './routes/stats-routes';

declare module 'fastify' {
  interface FastifyInstance {
    apiMetrics: ApiMetrics;
  }
}

/** Small on purpose: the largest legitimate body is a 64 KiB task result. */
export const DEFAULT_BODY_LIMIT = 128 * 1024;

export interface BuildOptions {
  /** Use this engine (the caller closes it); else one is created from `redisUrl` (or memory) and closed with the app. */
  engine?: Engine;
  reporter?: ProgressReporter;
  /** Redis for a created engine and for BullMQ (demo queue, bridge). */
  redisUrl?: string;
  /** Key prefix of a created engine (default tp). */
  prefix?: string;
  /** BullMQ connection (default `{ url: redisUrl }` when redisUrl is set). */
  bullmqConnection?: ConnectionOptions;
  demoQueue?: string;
  bridgeQueues?: string[];
  demo?: DemoJobs;
  /** Step duration of in-process demo jobs, ms. */
  stepMs?: number;
  /** Metrics go here (default: a new registry, reachable as `app.apiMetrics.registry`). */
  registry?: Registry;
  /** A pino logger (default: none). */
  logger?: Logger;
  bodyLimit?: number;
}

/** Builds the API; call `listen` (main.ts) or `inject` (tests, start.ts) on the result and `close` when done. */
export async function build(options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // Ids may be 128 characters; longer ones must reach validation (400), not fall out of routing (404).
    routerOptions: { maxParamLength: 512 },
    // Publishing is a hot path: no log line per request (errors are logged by the error handler, all are in metrics).
    logController: new LogController({ disableRequestLogging: true }),
  }) as unknown as FastifyInstance;

  const bodyAjv = new Ajv({ coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false });
  const urlAjv = new Ajv({ coerceTypes: 'array', removeAdditional: false, useDefaults: true, allErrors: false });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : urlAjv).compile(schema));

  const metrics = createApiMetrics(options.registry ?? new Registry());
  app.decorate('apiMetrics', metrics);
  registerErrorHandling(app, (code) => metrics.errors.labels(code).inc());
  instrumentRequests(app, metrics);

  await app.register(enginePlugin, {
    engine: options.engine,
    reporter: options.reporter,
    redisUrl: options.redisUrl,
    prefix: options.prefix,
  });
  const connection = options.bullmqConnection ?? (options.redisUrl === undefined ? undefined : { url: options.redisUrl });
  await app.register(jobsPlugin, {
    connection,
    demoQueue: options.demoQueue,
    bridgeQueues: options.bridgeQueues,
    demo: options.demo,
    stepMs: options.stepMs,
  });

  await app.register(healthRoutes);
  await app.register(async (api) => {
    // Every API route needs the engine: answer 503 at once rather than wait on a dead connection.
    api.addHook('onRequest', async () => {
      if (!app.engine.isReady()) throw new ApiError(503, 'unavailable', `the ${app.engine.kind} engine is not ready; try again`);
    });
    await api.register(statsRoutes);
    await api.register(progressRoutes);
    await api.register(publishRoutes);
    await api.register(demoRoutes);
  });
  return app;
}
