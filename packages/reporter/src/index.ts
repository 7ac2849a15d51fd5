/** @taskpulse/reporter: what job code calls to report progress, the BullMQ helper and the BullMQ bridge. */
export {
  createReporter,
  stepsPercent,
  type ProgressReporter,
  type ReporterEngine,
  type Reported,
  type ReporterOptions,
  type ReportBatchItem,
  type ReportBatchResult,
  type TaskProgress,
} from './reporter';
export { mergeProgress, type Coalesced, type DeferredErrorHandler } from './progress-throttle';
export { ReporterInputError } from './errors';
export { capErrorText, describeError } from './cause-chain';
export { withProgress, taskIdOf, ownerOf, type JobLike, type ProgressProcessor, type WithProgressOptions } from './with-progress';
export { startBullmqBridge, type BullmqBridge, type BullmqBridgeOptions, type BridgeCounts } from './bullmq-bridge';
export { progressEventOf } from './bullmq-progress';
export { bullmqRedisFor, type BullmqRedis } from './bullmq-redis';
