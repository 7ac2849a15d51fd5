/**
 * The demo worker's cluster entry point: consumes the video_processing queue (QUEUE_NAME) and reports
 * through the Redis engine. Prints `worker ready: …` once consuming; SIGTERM/SIGINT let active jobs
 * finish, then close. Env: REDIS_URL (required), KEY_PREFIX, QUEUE_NAME, CONCURRENCY, STEP_DELAY_MS, LOG_LEVEL.
 */
import { createRedisEngineForUrl } from '@taskpulse/engine';
import { bullmqRedisFor, createReporter } from '@taskpulse/reporter';
import { configOrExit, exitOnSignals } from '@taskpulse/config';
import { pino } from 'pino';
import { loadWorkerConfig } from './config';
import { startVideoWorker } from './video-worker';


async function main(): Promise<void> {
  const config = configOrExit('worker', () => loadWorkerConfig(process.env));
  const logger = pino({ name: 'taskpulse-worker', level: config.logLevel });
  const engine = createRedisEngineForUrl(config.redisUrl, { prefix: config.keyPrefix, logger });
  const bullmq = bullmqRedisFor(config.redisUrl);
  const worker = startVideoWorker({
    connection: bullmq.connection,
    prefix: bullmq.prefix,
    reporter: createReporter(engine),
    logger,
    queueName: config.queueName,
    concurrency: config.concurrency,
    stepMs: config.stepMs,
  });

  exitOnSignals(logger, 'closing the worker (finishing active jobs)', async () => {
    await worker.close();
    await bullmq.close();
    await engine.close();
  });

  await worker.waitUntilReady();
  // Printed whatever LOG_LEVEL says: supervisors and tests wait for this line.
  process.stdout.write(`worker ready: consuming queue ${config.queueName} (concurrency ${config.concurrency})\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`worker: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
