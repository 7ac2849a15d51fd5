export { build, DEFAULT_BODY_LIMIT, type BuildOptions } from './build';
export { loadApiConfig, type ApiConfig, type LoadApiConfigOptions } from './config';
export { DEMO_MAX_STEP_MS, newDemoTaskId, type DemoJobInput, type DemoJobs } from './demo-jobs';
export { createQueueDemoJobs, DEFAULT_DEMO_QUEUE, type QueueDemoJobsOptions } from './demo-queue';
export { ApiError, toErrorReply, STATUS_BY_CODE, type ErrorBody } from './error-handler';
export { createApiMetrics, type ApiMetrics } from './metrics';
export { CleanupIntervalError, DEFAULT_CLEANUP_INTERVAL_MS, MAX_CLEANUP_INTERVAL_MS } from './plugins/history-cleanup-plugin';
export { createInjectFallback, type FallbackRequest, type FallbackResponse, type InjectFallbackOptions } from './inject-fallback';
export { apiAuthFrom, INSECURE_AUTH, type ApiAuth, type ApiAuthMode, type BearerVerifier, type TaskAccessRule } from './api-auth';
