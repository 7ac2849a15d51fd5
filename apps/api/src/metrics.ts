/**
 * The API's Prometheus metrics on a registry passed in (never the global one): request durations by
 * route pattern (never a raw task or user id), errors by code, demo jobs by mode, history cleanup runs.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, type Registry } from 'prom-client';

export interface ApiMetrics {
  readonly registry: Registry;
  requestDuration: Histogram<'method' | 'route' | 'status_code'>;
  errors: Counter<'code'>;
  demoJobs: Counter<'mode'>;
  /** Tasks the periodic history cleanup dropped. */
  cleanupDropped: Counter;
  /** Periodic history cleanups that failed (each is logged with its context). */
  cleanupFailures: Counter;
}

/** Creates (or, on a registry that already has them, reuses) the API's metrics. */
export function createApiMetrics(registry: Registry): ApiMetrics {
  const reuse = <T>(name: string, make: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? make();
  return {
    registry,
    requestDuration: reuse(
      'taskpulse_api_http_request_duration_seconds',
      () =>
        new Histogram({
          name: 'taskpulse_api_http_request_duration_seconds',
          help: 'HTTP request duration by method, route pattern and status code.',
          labelNames: ['method', 'route', 'status_code'] as const,
          // sub-5 ms bounds so the read target (< 5 ms p99) can be read from the server's side too
          buckets: [0.0005, 0.001, 0.002, 0.0025, 0.004, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
          registers: [registry],
        }),
    ),
    errors: reuse(
      'taskpulse_api_errors_total',
      () =>
        new Counter({
          name: 'taskpulse_api_errors_total',
          help: 'Error answers by error code.',
          labelNames: ['code'] as const,
          registers: [registry],
        }),
    ),
    demoJobs: reuse(
      'taskpulse_api_demo_jobs_total',
      () =>
        new Counter({
          name: 'taskpulse_api_demo_jobs_total',
          help: 'Demo jobs enqueued, by mode (queue or in-process).',
          labelNames: ['mode'] as const,
          registers: [registry],
        }),
    ),
    cleanupDropped: reuse(
      'taskpulse_api_cleanup_dropped_total',
      () =>
        new Counter({
          name: 'taskpulse_api_cleanup_dropped_total',
          help: 'Expired tasks dropped by the periodic history cleanup.',
          registers: [registry],
        }),
    ),
    cleanupFailures: reuse(
      'taskpulse_api_cleanup_failures_total',
      () =>
        new Counter({
          name: 'taskpulse_api_cleanup_failures_total',
          help: 'Periodic history cleanups that failed.',
          registers: [registry],
        }),
    ),
  };
}

/** Times every request; the route label is the matched pattern, or `unmatched` for a 404 without a route. */
export function instrumentRequests(app: FastifyInstance, metrics: ApiMetrics): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requestDuration
      .labels(request.method, route, String(reply.statusCode))
      .observe(reply.elapsedTime / 1000);
  });
}
