/**
 * The API as a Fastify instance, built apart from `listen` (tests use `app.inject()`, the all-in-one
 * start script forwards the gateway's HTTP requests to it). Plugins: metrics, engine + reporter, BullMQ
 * bridges, the periodic history cleanup; then the routes. Demo jobs are handed in (`demoJobs`), so the
 * API depends on no other app. Bodies are validated strictly (no coercion, no unknown fields); params and
 * query strings are coerced (`?limit=20` is a number).
 */
import Fastify, { LogController, type FastifyInstance, type FastifyReply } from 'fastify';
import { Ajv } from 'ajv';
import type { ConnectionOptions } from 'bullmq';
import type { ProgressReporter, ReporterEngine } from '@taskpulse/reporter';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import type { DemoJobs } from './demo-jobs';
import { ApiError, registerErrorHandling, toErrorReply } from './error-handler';
import { createApiMetrics, instrumentRequests, type ApiMetrics } from './metrics';
import type { ApiAuth } from './api-auth';
import { authPlugin, requireScope } from './plugins/auth-plugin';
import { enginePlugin, type ApiEngine } from './plugins/engine-plugin';
import { registerRateLimit } from './plugins/rate-limit-plugin';
import { bridgesPlugin } from './plugins/bridges-plugin';
import { openapiPlugin } from './plugins/openapi-plugin';
import { DEFAULT_CLEANUP_INTERVAL_MS, historyCleanupPlugin } from './plugins/history-cleanup-plugin';
import { demoPageRoutes } from './routes/demo-page-routes';
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
  engine?: ApiEngine & ReporterEngine;
  reporter?: ProgressReporter;
  /** Redis for a created engine and for the BullMQ bridges. */
  redisUrl?: string;
  /** Key prefix of a created engine (default tp). */
  prefix?: string;
  /** BullMQ connection (default `{ url: redisUrl }` when redisUrl is set). */
  bullmqConnection?: ConnectionOptions;
  /** BullMQ key prefix of the bridges' queues (default BullMQ's `bull`; `{bull}` on a Redis Cluster). */
  bullmqPrefix?: string | undefined;
  bridgeQueues?: string[];
  /** Where `POST /api/v1/demo/jobs` sends jobs (the caller closes it); without it that route answers 404. */
  demoJobs?: DemoJobs;
  /** Milliseconds between history cleanups (the guide's hourly CleanupOldHistory); 0 is off. Default 1 h. */
  cleanupIntervalMs?: number;
  /** Metrics go here (default: a new registry, reachable as `app.apiMetrics.registry`). */
  registry?: Registry;
  /** A pino logger (default: none). */
  logger?: Logger;
  bodyLimit?: number;
  /** Auth mode, API keys and bearer verifier (default: insecure, everything open as in the guide). */
  auth?: ApiAuth;
  /**
   * Requests per minute per API key (or client IP) on the /api routes; 0 or unset is off. Counters are in
   * Redis when `redisUrl` is set (shared by every replica), else in this process.
   */
  rateLimitPerMinute?: number;
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
    // A URL the router cannot decode (`/progress/%zz`) gets the API's error body too, not Fastify's own.
    frameworkErrors: (error, _request, reply) => {
      const { status, body } = toErrorReply(error);
      return (reply as unknown as FastifyReply).status(status).send(body);
    },
  }) as unknown as FastifyInstance;

  const bodyAjv = new Ajv({ coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false });
  const urlAjv = new Ajv({ coerceTypes: 'array', removeAdditional: false, useDefaults: true, allErrors: false });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : urlAjv).compile(schema));

  const metrics = createApiMetrics(options.registry ?? new Registry());
  app.decorate('apiMetrics', metrics);
  registerErrorHandling(app, (code) => metrics.errors.labels(code).inc());
  instrumentRequests(app, metrics);
  await app.register(authPlugin, { auth: options.auth });
  await app.register(openapiPlugin);

  await app.register(enginePlugin, {
    engine: options.engine,
    reporter: options.reporter,
    redisUrl: options.redisUrl,
    prefix: options.prefix,
  });
  const connection = options.bullmqConnection ?? (options.redisUrl === undefined ? undefined : { url: options.redisUrl });
  await app.register(bridgesPlugin, { connection, prefix: options.bullmqPrefix, bridgeQueues: options.bridgeQueues });
  await app.register(historyCleanupPlugin, { intervalMs: options.cleanupIntervalMs ?? DEFAULT_CLEANUP_INTERVAL_MS });

  await app.register(healthRoutes);
  await app.register(demoPageRoutes);
  await app.register(async (api) => {
    // Every API route needs the engine: answer 503 at once rather than wait on a dead connection.
    api.addHook('onRequest', async () => {
      if (!app.engine.isReady()) throw new ApiError(503, 'unavailable', `the ${app.engine.kind} engine is not ready; try again`);
    });
    await registerRateLimit(app, api, {
      perMinute: options.rateLimitPerMinute ?? 0,
      redisUrl: options.redisUrl,
      prefix: app.engine.prefix,
    });
    // Scopes in jwt mode (see auth-plugin.ts): stats are admin; publish, broadcast and demo jobs are publish;
    // the reads take a bearer token or a read key (checked in progress-routes.ts).
    await api.register(async (admin) => {
      admin.addHook('onRequest', requireScope(app, 'admin'));
      await admin.register(statsRoutes);
    });
    await api.register(progressRoutes);
    await api.register(async (publishing) => {
      publishing.addHook('onRequest', requireScope(app, 'publish'));
      await publishing.register(publishRoutes);
      await publishing.register(demoRoutes, { demoJobs: options.demoJobs });
    });
  });
  return app;
}
