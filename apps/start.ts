/**
 * `npm start`: the whole of taskpulse in one process on one port (PORT, default 8080). The gateway
 * (uWebSockets.js) serves ws://…/api/v1/ws and hands every other HTTP request to the Fastify API through
 * app.inject(), including `GET /`, the demo page. This file is the composition: it hands the API its
 * demo jobs. Without REDIS_URL: the memory engine and the worker's in-process runner. With REDIS_URL:
 * the Redis engine, the API's BullMQ demo queue and the worker consuming it (and any BRIDGE_QUEUES
 * bridges) in this process. SIGINT/SIGTERM drain the gateway, then close the worker, the demo jobs, the
 * API and the engine.
 */
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { registerProcessMetrics } from '@taskpulse/metrics';
import { configOrExit, exitOnSignals, readInt, readRaw } from '@taskpulse/config';
import { createMemoryEngine, createRedisEngineForUrl, type Engine } from '@taskpulse/engine';
import { bullmqRedisFor, createReporter } from '@taskpulse/reporter';
import { createGateway, limitsFromSettings, readGatewaySettings } from '@taskpulse/gateway';
import { apiAuthFrom, build, createInjectFallback, createQueueDemoJobs, loadApiConfig, type DemoJobs } from '@taskpulse/api';
import { createInProcessRunner, instrumentWorker, readWorkerJobSettings, startVideoWorker } from '@taskpulse/worker';

/** How long start-up waits for Redis before listening anyway. */
const ENGINE_WAIT_MS = 5000;

/** Everything npm start reads from the environment, validated once. */
function readConfig() {
  const gateway = readGatewaySettings(process.env, { defaultAuthMode: 'insecure' });
  const api = loadApiConfig(process.env, { defaultPort: 8080, defaultAuthMode: 'insecure' });
  // Only the worker's job settings: its whole config requires REDIS_URL, which npm start does not.
  const { concurrency, stepMs } = readWorkerJobSettings(process.env);
  return { gateway, api, concurrency, stepMs };
}

async function main(): Promise<void> {
  const config = configOrExit('start', readConfig);
  const { redisUrl } = config.api;
  const logger = pino({ name: 'taskpulse', level: config.gateway.logLevel });
  if (readRaw(process.env, 'AUTH_MODE') === undefined) {
    logger.warn('AUTH_MODE is not set: running with AUTH_MODE=insecure (identity from query parameters, no tokens, every origin); set AUTH_MODE=jwt before exposing this server');
  }
  // One registry for the whole process: the gateway serves it at /metrics, the API and the engine add to it.
  const registry = new Registry();
  registerProcessMetrics(registry);
  let engine: Engine;
  if (redisUrl === undefined) {
    engine = createMemoryEngine({ prefix: config.gateway.keyPrefix });
  } else {
    const redis = createRedisEngineForUrl(redisUrl, { prefix: config.gateway.keyPrefix, logger, metricsRegistry: registry });
    // Listening before Redis answers would greet the first requests with 503: wait a little, then go on anyway.
    await redis.ready(ENGINE_WAIT_MS).catch((error: unknown) => {
      logger.warn({ err: error }, 'redis is not ready yet; requests get 503 until it is');
    });
    engine = redis;
  }
  const reporter = createReporter(engine);
  const bullmq = redisUrl === undefined ? undefined : bullmqRedisFor(redisUrl);

  // Typed as the API's DemoJobs: here the compiler checks the worker's job data against the API's input.
  const demoJobs: DemoJobs & { close(): Promise<void> } =
    bullmq === undefined
      ? createInProcessRunner(reporter, { stepMs: config.stepMs, logger: logger.child({ part: 'demo-runner' }) })
      : createQueueDemoJobs({ connection: bullmq.connection, prefix: bullmq.prefix, queueName: config.api.demoQueue, logger: logger.child({ part: 'demo-queue' }) });
  const api = await build({
    engine,
    reporter,
    redisUrl,
    ...(bullmq === undefined ? {} : { bullmqConnection: bullmq.connection, bullmqPrefix: bullmq.prefix }),
    bridgeQueues: config.api.bridgeQueues,
    demoJobs,
    cleanupIntervalMs: config.api.cleanupIntervalMs,
    registry,
    logger: logger.child({ part: 'api' }),
    auth: apiAuthFrom(config.api),
    bodyLimit: config.api.bodyLimit,
    rateLimitPerMinute: config.api.rateLimitPerMinute,
  });
  await api.ready();
  const worker =
    bullmq === undefined
      ? undefined
      : startVideoWorker({
          connection: bullmq.connection,
          prefix: bullmq.prefix,
          reporter,
          logger: logger.child({ part: 'worker' }),
          queueName: config.api.demoQueue,
          concurrency: config.concurrency,
          stepMs: config.stepMs,
        });
  if (worker) instrumentWorker(worker, config.api.demoQueue, registry);
  const gateway = createGateway({
    engine,
    logger: logger.child({ part: 'gateway' }),
    metricsRegistry: registry,
    heartbeatIntervalMs: config.gateway.heartbeatIntervalMs,
    limits: limitsFromSettings(config.gateway),
    auth: config.gateway.auth,
    ...(config.gateway.nodeId === undefined ? {} : { nodeId: config.gateway.nodeId }),
    fallback: createInjectFallback(api, { bodyLimit: config.api.bodyLimit, logger }),
  });

  exitOnSignals(logger, 'closing: gateway, worker, demo jobs, api, engine', async () => {
    await gateway.close();
    await worker?.close();
    await demoJobs.close();
    await api.close();
    await bullmq?.close();
    await engine.close();
  });

  const port = await gateway.listen(config.gateway.port, config.gateway.host);
  const base = `localhost:${port}`;
  const mode = redisUrl === undefined ? 'memory engine, demo jobs in process' : `${engine.kind} engine, BullMQ queue ${config.api.demoQueue}`;
  // Printed whatever LOG_LEVEL says: this is what a person starting the demo reads.
  process.stdout.write(
    [
      `taskpulse listening on http://${base} (${mode})`,
      `  demo page  http://${base}/`,
      `  WebSocket  ws://${base}/api/v1/ws?user_id=user-123`,
      `  REST       http://${base}/api/v1/progress/{task_id}  …/history  /api/v1/progress/stats  /api/v1/websocket/stats`,
      `  demo job   curl -s -X POST http://${base}/api/v1/demo/jobs -H 'content-type: application/json' -d '{"user_id":"user-123"}'`,
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`start: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
