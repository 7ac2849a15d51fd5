/**
 * The API's cluster entry point: Redis engine, reporter, the BullMQ demo queue (a worker process runs its
 * jobs), bridges, history cleanup, listen. Prints `api listening on …` once it accepts requests;
 * SIGTERM/SIGINT close the server, then the demo queue and the engine.
 * Env: REDIS_URL and AUTH_MODE (required), PORT (8081), HOST, KEY_PREFIX, LOG_LEVEL, DEMO_QUEUE, BRIDGE_QUEUES,
 * CLEANUP_INTERVAL_MS, API_KEYS / API_KEYS_FILE, API_RATE_LIMIT_PER_MINUTE, API_BODY_LIMIT_BYTES.
 */
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { registerProcessMetrics } from '@taskpulse/metrics';
import { createRedisEngineForUrl } from '@taskpulse/engine';
import { bullmqRedisFor } from '@taskpulse/reporter';
import { configOrExit, exitOnSignals } from '@taskpulse/config';
import { apiAuthFrom } from './api-auth';
import { build } from './build';
import { loadApiConfig } from './config';
import { apiLoggerOptions } from './log-redaction';
import { createQueueDemoJobs } from './demo-queue';

/** How long start-up waits for Redis before listening anyway (routes answer 503 until it is ready). */
const ENGINE_WAIT_MS = 5000;


async function main(): Promise<void> {
  const config = configOrExit('api', () => loadApiConfig(process.env, { requireRedis: true }));
  const logger = pino({ name: 'taskpulse-api', level: config.logLevel, ...apiLoggerOptions() });
  if (config.auth.mode === 'jwt' && config.apiKeys.entries.length === 0) {
    logger.warn('AUTH_MODE=jwt without API_KEYS or API_KEYS_FILE: every publish, broadcast, demo and stats call is refused');
  }
  logger.info({ authMode: config.auth.mode, apiKeys: config.apiKeys.entries.map((key) => key.id), rateLimitPerMinute: config.rateLimitPerMinute }, 'auth settings');
  const registry = new Registry();
  registerProcessMetrics(registry);
  const engine = createRedisEngineForUrl(config.redisUrl!, { prefix: config.keyPrefix, logger, metricsRegistry: registry });
  await engine.ready(ENGINE_WAIT_MS).catch((error: unknown) => {
    logger.warn({ err: error }, 'redis is not ready yet; the API answers 503 until it is');
  });
  const bullmq = bullmqRedisFor(config.redisUrl!);
  const demoJobs = createQueueDemoJobs({
    connection: bullmq.connection,
    prefix: bullmq.prefix,
    queueName: config.demoQueue,
    logger: logger.child({ component: 'demo-queue' }),
  });
  const app = await build({
    engine,
    redisUrl: config.redisUrl,
    bullmqConnection: bullmq.connection,
    bullmqPrefix: bullmq.prefix,
    bridgeQueues: config.bridgeQueues,
    demoJobs,
    cleanupIntervalMs: config.cleanupIntervalMs,
    registry,
    logger,
    bodyLimit: config.bodyLimit,
    rateLimitPerMinute: config.rateLimitPerMinute,
    auth: apiAuthFrom(config),
  });

  exitOnSignals(logger, 'closing the api', async () => {
    await app.close();
    await demoJobs.close();
    await bullmq.close();
    await engine.close();
  });

  const address = await app.listen({ port: config.port, host: config.host });
  // Printed whatever LOG_LEVEL says: supervisors and tests wait for this line.
  process.stdout.write(`api listening on ${address} (port ${config.port}, key prefix ${config.keyPrefix})\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`api: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
