/**
 * One BullMQ bridge per BRIDGE_QUEUES queue (`app.bridges`), reporting plain `job.updateProgress` calls
 * through `app.reporter`; closed with the app. Registered after the engine plugin. Without a BullMQ
 * connection no bridge runs.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ConnectionOptions } from 'bullmq';
import { startBullmqBridge, type BullmqBridge } from '@taskpulse/reporter';
import type { Logger } from 'pino';
import { shared } from './skip-override';

declare module 'fastify' {
  interface FastifyInstance {
    bridges: readonly BullmqBridge[];
  }
}

export interface BridgesPluginOptions {
  /** BullMQ's Redis; without it no bridge runs. */
  connection?: ConnectionOptions;
  /** Queues whose plain BullMQ jobs the bridge reports (default none). */
  bridgeQueues?: string[];
}

export const bridgesPlugin: FastifyPluginAsync<BridgesPluginOptions> = shared(async (app, options) => {
  const logger = app.log as unknown as Logger;
  const { connection } = options;
  const bridges =
    connection === undefined
      ? []
      : (options.bridgeQueues ?? []).map((queueName) =>
          startBullmqBridge({ reporter: app.reporter, queueName, connection, logger: logger.child({ component: 'bridge' }) }),
        );
  app.decorate('bridges', bridges);
  if (bridges.length > 0) {
    app.addHook('onClose', async () => {
      await Promise.all(bridges.map((bridge) => bridge.close()));
    });
  }
});
