/**
 * The metric name rule and the default process metrics. Every metric is `taskpulse_<part>_<name>_<unit>`;
 * the Node.js process metrics get the prefix `taskpulse_` (so `taskpulse_process_cpu_seconds_total`,
 * `taskpulse_nodejs_eventloop_lag_seconds`), the same names in the gateway, the API and the worker, so one
 * dashboard panel covers every process (Prometheus' `job` label tells them apart).
 */
import { collectDefaultMetrics, type Registry } from 'prom-client';

/** What every taskpulse metric name starts with. */
export const METRIC_PREFIX = 'taskpulse_';

/** `taskpulse_<part>_<name>[_<unit>]`: lower case words joined by underscores, at least three. */
export const METRIC_NAME = /^taskpulse_[a-z0-9]+_[a-z0-9_]+[a-z0-9]$/;

/** A metric of the process metrics set, used to tell whether a registry already has them. */
const MARKER = `${METRIC_PREFIX}process_cpu_seconds_total`;

/**
 * Registers the Node.js process metrics on `registry` with the taskpulse prefix, once: a second call on the
 * same registry (npm start composes the gateway, the API and the worker on one) does nothing.
 */
export function registerProcessMetrics(registry: Registry): void {
  if (registry.getSingleMetric(MARKER) !== undefined) return;
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
}

/** The names in `registry` that break the naming rule (for tests). */
export async function misnamedMetrics(registry: Registry): Promise<string[]> {
  const metrics = await registry.getMetricsAsJSON();
  return metrics.map((metric) => metric.name).filter((name) => !METRIC_NAME.test(name));
}
