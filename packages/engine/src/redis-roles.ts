/**
 * The four roles both Redis engines play, over their command connection (one Redis or a Cluster) and their
 * subscriber; they differ only in the store's topology and how a broadcast is published.
 */
import type { ChannelListener, EngineRoles, LinkEvent } from './engine';
import type { EngineLogger } from './engine-logger';
import type { RedisCommands } from './redis-call';
import type { RedisEngineMetrics } from './redis-metrics';
import { RedisNodeRegistry } from './redis-node-registry';
import { RedisSessionStore } from './redis-session-store';
import { RedisTaskStore, type RedisTopology } from './redis-task-store';

/** What both subscribers (RedisChannelLink, RedisClusterSubscriber) offer the PubSub role. */
export interface ChannelSubscriber {
  subscribe(channel: string, listener: ChannelListener): Promise<void>;
  unsubscribe(channel: string, listener: ChannelListener): Promise<void>;
  onLinkChange(listener: (event: LinkEvent) => void): () => void;
}

/** The task store, pub/sub, node registry and sessions of a Redis engine. */
export function redisEngineRoles(options: {
  commands: RedisCommands;
  subscriber: ChannelSubscriber;
  prefix: string;
  now: () => number;
  logger: EngineLogger;
  topology: RedisTopology;
  /** Publishes a broadcast; resolves to the subscriber connections that received it. */
  broadcast(channel: string, frame: string | Buffer): Promise<number>;
  /** Where the stats index counts its failed and dropped writes; none without. */
  metrics?: RedisEngineMetrics | undefined;
}): EngineRoles & { tasks: RedisTaskStore } {
  const { commands, subscriber, prefix, now, logger, topology, broadcast, metrics } = options;
  return {
    tasks: new RedisTaskStore(commands, prefix, now, logger, topology, { metrics }),
    channels: {
      subscribe: (channel, listener) => subscriber.subscribe(channel, listener),
      unsubscribe: (channel, listener) => subscriber.unsubscribe(channel, listener),
      onLinkChange: (listener) => subscriber.onLinkChange(listener),
      broadcast,
    },
    nodes: new RedisNodeRegistry(commands, prefix, now, logger),
    sessions: new RedisSessionStore(commands, prefix),
  };
}
