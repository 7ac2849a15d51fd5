/**
 * The demo worker's cluster entry point: consumes the video_processing queue (QUEUE_NAME) and reports
 * through the Redis engine. Prints `worker ready: …` once consuming; SIGTERM/SIGINT let active jobs
 * finish, then close. /metrics, /healthz and /readyz on METRICS_PORT. Env: see config.ts.
 */
import { createRedisEngineForUrl } from '@taskpulse/engine';
import { bullmqRedisFor, createReporter } from '@taskpulse/reporter';
import { configOrExit, exitOnSignals } from '@taskpulse/config';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { registerProcessMetrics, startMetricsServer } from '@taskpulse/metrics';
import { instrumentWorker } from './metrics';
import { loadWorkerConfig } from './config';
import { startVideoWorker } from './video-worker';


async function main(): Promise<void> {
  const config = configOrExit('worker', () => loadWorkerConfig(process.env));
  const logger = pino({ name: 'taskpulse-worker', level: config.logLevel });
  const registry = new Registry();
  registerProcessMetrics(registry);
  const engine = createRedisEngineForUrl(config.redisUrl, { prefix: config.keyPrefix, logger, metricsRegistry: registry });
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
  instrumentWorker(worker, config.queueName, registry);
  const metricsServer = await startMetricsServer({
    registry,
    port: config.metricsPort,
    host: config.host,
    ready: () => engine.isReady() && worker.isRunning(),
    onError: (error) => logger.error({ err: error }, 'collecting metrics failed'),
  });

  exitOnSignals(logger, 'closing the worker (finishing active jobs)', async () => {
    await worker.close();
    await metricsServer.close();
    await bullmq.close();
    await engine.close();
  });

  await worker.waitUntilReady();
  // Printed whatever LOG_LEVEL says: supervisors and tests wait for this line.
  process.stdout.write(`worker ready: consuming queue ${config.queueName} (concurrency ${config.concurrency}, metrics on port ${metricsServer.port})\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`worker: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
