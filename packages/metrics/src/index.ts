export { METRIC_NAME, METRIC_PREFIX, misnamedMetrics, registerProcessMetrics } from './process-metrics';
export { startMetricsServer, type MetricsServer, type MetricsServerOptions } from './metrics-server';
