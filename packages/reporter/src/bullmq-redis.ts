/**
 * BullMQ's Redis for a REDIS_URL: one Redis as `{ url }`, or, for a `redis+cluster://` URL, an ioredis
 * Cluster and a `{bull}` key prefix: BullMQ's Lua scripts touch several keys of a queue, which a cluster
 * runs only when they share a hash tag.
 */
import type { ConnectionOptions } from 'bullmq';
import { Cluster } from 'ioredis';
import { clusterNodeOptions, isRedisClusterUrl, parseRedisClusterUrl } from '@taskpulse/engine';

/** What BullMQ's Queue, Worker and QueueEvents take for one Redis URL; `close` releases what this opened. */
export interface BullmqRedis {
  connection: ConnectionOptions;
  /** BullMQ's key prefix: undefined (BullMQ's `bull`) on one Redis, `{bull}` on a cluster. */
  prefix: string | undefined;
  close(): Promise<void>;
}

/** BullMQ's connection and prefix for a `redis://`, `rediss://`, `redis+cluster://` or `rediss+cluster://` URL. */
export function bullmqRedisFor(url: string): BullmqRedis {
  if (!isRedisClusterUrl(url)) return { connection: { url }, prefix: undefined, close: async () => undefined };
  const target = parseRedisClusterUrl(url);
  const cluster = new Cluster(target.nodes, {
    redisOptions: {
      // BullMQ's workers block on their connection: it requires no retry limit per request
      maxRetriesPerRequest: null,
      ...clusterNodeOptions(target),
    },
  });
  return {
    connection: cluster,
    prefix: '{bull}',
    close: async () => {
      await cluster.quit().catch(() => cluster.disconnect());
    },
  };
}
