/** @taskpulse/reporter: what job code calls to report progress, the BullMQ helper and the BullMQ bridge. */
export { createReporter, stepsPercent, type ProgressReporter, type Reported, type ReporterEngine, type ReporterOptions, type TaskProgress } from './reporter';
export { ReporterInputError } from './errors';
export { describeError } from './cause-chain';
export { withProgress, taskIdOf, ownerOf, type JobLike, type ProgressProcessor, type WithProgressOptions } from './with-progress';
export { startBullmqBridge, type BullmqBridge, type BullmqBridgeOptions, type BridgeCounts } from './bullmq-bridge';
export { progressEventOf } from './bullmq-progress';
export { bullmqRedisFor, type BullmqRedis } from './bullmq-redis';
