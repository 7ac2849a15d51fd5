/**
 * One BullMQ bridge per BRIDGE_QUEUES queue (`app.bridges`), reporting plain `job.updateProgress` calls
 * through `app.reporter`; closed with the app. Registered after the engine plugin. Without a BullMQ
 * connection no bridge runs.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ConnectionOptions } from 'bullmq';
import { startBullmqBridge, type BullmqBridge } from '@taskpulse/reporter';
import type { Logger } from 'pino';
import { Counter, Histogram } from 'prom-client';
import { shared } from './skip-override';

declare module 'fastify' {
  interface FastifyInstance {
    bridges: readonly BullmqBridge[];
  }
}

export interface BridgesPluginOptions {
  /** BullMQ's Redis; without it no bridge runs. */
  connection?: ConnectionOptions;
  /** BullMQ key prefix (default BullMQ's `bull`; `{bull}` on a Redis Cluster). */
  prefix?: string | undefined;
  /** Queues whose plain BullMQ jobs the bridge reports (default none). */
  bridgeQueues?: string[];
}

export const bridgesPlugin: FastifyPluginAsync<BridgesPluginOptions> = shared(async (app, options) => {
  const logger = app.log as unknown as Logger;
  const { connection } = options;
  const lag = connection === undefined || (options.bridgeQueues ?? []).length === 0 ? undefined : bridgeLag(app);
  const bridges =
    connection === undefined
      ? []
      : (options.bridgeQueues ?? []).map((queueName) => {
          const observe = lag!.labels(queueName);
          return startBullmqBridge({
            reporter: app.reporter,
            queueName,
            connection,
            ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
            logger: logger.child({ component: 'bridge' }),
            observeLag: (seconds) => observe.observe(seconds),
          });
        });
  app.decorate('bridges', bridges);
  if (bridges.length > 0) exportBridgeCounts(app, bridges);
  if (bridges.length > 0) {
    app.addHook('onClose', async () => {
      await Promise.all(bridges.map((bridge) => bridge.close()));
    });
  }
});

const BRIDGE_EVENTS = 'taskpulse_api_bridge_events_total';
const BRIDGE_LAG = 'taskpulse_api_bridge_lag_seconds';

/** The bridge lag histogram by queue (configured names, a handful): BullMQ writing an event to its publish. */
function bridgeLag(app: Parameters<FastifyPluginAsync>[0]): Histogram<'queue'> {
  const { registry } = app.apiMetrics;
  return (
    (registry.getSingleMetric(BRIDGE_LAG) as Histogram<'queue'> | undefined) ??
    new Histogram({
      name: BRIDGE_LAG,
      help: 'Time from BullMQ writing a job event to the bridge publishing it as a task event, by queue.',
      labelNames: ['queue'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    })
  );
}

/** The bridges' own counts as one Prometheus counter by queue and outcome, read when scraped. */
function exportBridgeCounts(app: Parameters<FastifyPluginAsync>[0], bridges: readonly BullmqBridge[]): void {
  const { registry } = app.apiMetrics;
  registry.removeSingleMetric(BRIDGE_EVENTS); // a rebuilt app on the same registry reports its own bridges
  new Counter({
    name: BRIDGE_EVENTS,
    help: 'BullMQ events the bridge handled, by queue and outcome (published, duplicate, invalid, refused, error).',
    labelNames: ['queue', 'outcome'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const bridge of bridges) {
        const counts = bridge.counts();
        const queue = bridge.queueName;
        this.inc({ queue, outcome: 'published' }, counts.published);
        this.inc({ queue, outcome: 'duplicate' }, counts.duplicates);
        this.inc({ queue, outcome: 'invalid' }, counts.invalid);
        this.inc({ queue, outcome: 'refused' }, counts.refused);
        this.inc({ queue, outcome: 'error' }, counts.errors);
      }
    },
  });
}
