export { build, DEFAULT_BODY_LIMIT, type BuildOptions } from './build';
export { loadApiConfig, type ApiConfig, type LoadApiConfigOptions } from './config';
export { createQueueDemoJobs, type DemoJobs } from './demo-queue';
export { ApiError, toErrorReply, STATUS_BY_CODE, type ErrorBody } from './error-handler';
export { createApiMetrics, type ApiMetrics } from './metrics';
export { createInjectFallback, type FallbackRequest, type FallbackResponse, type InjectFallbackOptions } from './inject-fallback';
