/**
 * The cluster's gateway process: configuration from the environment, the Redis engine, the gateway,
 * listen. SIGTERM or SIGINT drains (clients get 1012 and reconnect elsewhere) and exits 0.
 */
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { registerProcessMetrics } from '@taskpulse/metrics';
import { createRedisEngineForUrl } from '@taskpulse/engine';
import { configOrExit, exitOnSignals } from '@taskpulse/config';
import { limitsFromSettings, loadGatewayConfig } from './config';
import { createGateway } from './gateway';


async function main(): Promise<void> {
  const config = configOrExit('gateway', () => loadGatewayConfig(process.env));
  const logger = pino({ name: 'gateway', level: config.logLevel });
  logger.info({ authMode: config.auth.mode, allowedOrigins: config.auth.allowedOrigins, jwtKey: config.auth.jwt?.key.kind }, 'auth settings');
  const registry = new Registry();
  registerProcessMetrics(registry);
  const engine = createRedisEngineForUrl(config.redisUrl, { prefix: config.keyPrefix, logger, metricsRegistry: registry });
  const gateway = createGateway({
    engine,
    nodeId: config.nodeId,
    logger,
    metricsRegistry: registry,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    limits: limitsFromSettings(config),
    auth: config.auth,
  });

  exitOnSignals(logger, 'draining the gateway', async () => {
    await gateway.close();
    await engine.close();
  });

  // Readiness follows the engine (/readyz answers 503 until Redis is up), so listening need not wait for it.
  engine.ready().catch((error: unknown) => logger.warn({ err: error }, 'redis is not ready yet; /readyz answers 503 until it is'));
  const port = await gateway.listen(config.port, config.host);
  // Printed whatever the log level: process supervisors and tests wait for this line.
  process.stdout.write(`gateway listening on ${config.host}:${port} (node ${gateway.nodeId}, key prefix ${config.keyPrefix})\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`gateway: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
