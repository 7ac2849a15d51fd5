/**
 * The Redis engine on a Redis Cluster: the same stores as RedisEngine (task store, node registry,
 * sessions) over an ioredis Cluster that routes each command by its keys' slot, and channels on sharded
 * pub/sub (redis-cluster-subscriber.ts). What makes it work on a cluster:
 * - every key of one task shares the task's `{t:<task>}` hash tag, so the publish script runs on one
 *   shard, and publishes with SPUBLISH, which stays on that shard;
 * - the stats index and the node reports each live in one slot of their own (`{idx}`, `{nodes}`);
 * - sessions (one key each) are saved one command per key instead of one cross-slot pipeline;
 * - a task first written after a failover starts a new epoch: replication is asynchronous, so the promoted
 *   replica may lack the newest events, and offsets must never be handed out twice.
 * Every Redis failure surfaces as EngineUnavailableError, as in RedisEngine.
 */
import { Cluster, type ClusterOptions, type Redis, type RedisOptions } from 'ioredis';
import type { Registry } from 'prom-client';
import { bindRoles } from './compose-engine';
import type { Engine, EngineRoles, NodeRegistry, PubSub, SessionStore, TaskStore } from './engine';
import { defaultEngineLogger, type EngineLogger } from './engine-logger';
import { pollUntilReady, startPingHealthCheck, type PingHealthCheck } from './ping-health-check';
import { redisEngineRoles } from './redis-roles';
import type { RedisTaskStore } from './redis-task-store';
import { redisCall } from './redis-call';
import { createRedisEngineMetrics, instrumentRedisConnection } from './redis-metrics';
import { RedisClusterSubscriber } from './redis-cluster-subscriber';
import { clusterNodeOptions, parseRedisClusterUrl } from './redis-cluster-url';
import { DEFAULT_COMMAND_TIMEOUT_MS } from './redis-engine';

export interface RedisClusterEngineOptions {
  /** `redis+cluster://[user:password@]host:port,host:port,…` (or `rediss+cluster://` for TLS): any reachable nodes. */
  url: string;
  /** Key and channel prefix (default `tp`). */
  prefix?: string;
  logger?: EngineLogger;
  /** The clock, in ms, for the status index and node expiry; tests move it. */
  now?: () => number;
  /** Names the connections in CLIENT LIST (`<name>:cmd`, `<name>:ssub`; default `taskpulse`). */
  connectionName?: string;
  /** Extra ioredis options for every node connection. */
  redisOptions?: RedisOptions;
  /** Extra ioredis Cluster options (NAT maps, slot refresh interval). */
  clusterOptions?: ClusterOptions;
  /** How often a PING must come back, in ms (default 1000), or the engine is not ready. */
  healthCheckMs?: number;
  /** Where the engine's Redis metrics go (redis-metrics.ts: the cluster's command connection); none without one. */
  metricsRegistry?: Registry;
}

/** Creates the cluster engine; connections open at once, commands queue until the cluster is ready. */
export function createRedisClusterEngine(options: RedisClusterEngineOptions): RedisClusterEngine {
  return new RedisClusterEngine(options);
}

/** The role methods of RedisClusterEngine, bound in its constructor from the objects playing each role. */
export interface RedisClusterEngine extends TaskStore, PubSub, NodeRegistry, SessionStore {}

/** Engine on a Redis Cluster: one cluster client for commands, one subscriber connection per master in use. */
export class RedisClusterEngine implements Engine {
  readonly kind = 'redis-cluster';
  readonly prefix: string;
  /** The objects playing the four roles. */
  readonly roles: EngineRoles & { tasks: RedisTaskStore };
  private readonly commands: Cluster;
  private readonly subscriber: RedisClusterSubscriber;
  private readonly logger: EngineLogger;
  private closed = false;
  private readonly health: PingHealthCheck;

  constructor(options: RedisClusterEngineOptions) {
    this.prefix = options.prefix ?? 'tp';
    this.logger = options.logger ?? defaultEngineLogger();
    const now = options.now ?? Date.now;
    const name = options.connectionName ?? 'taskpulse';
    const target = parseRedisClusterUrl(options.url);
    const nodeOptions: RedisOptions = {
      commandTimeout: DEFAULT_COMMAND_TIMEOUT_MS,
      ...clusterNodeOptions(target),
      ...options.redisOptions,
    };
    this.commands = new Cluster(target.nodes, {
      // a failover takes the cluster a few seconds: a command waits through it (MOVED, TRYAGAIN, CLUSTERDOWN
      // are retried) and then fails as EngineUnavailableError rather than hanging
      maxRedirections: 16,
      retryDelayOnFailover: 200,
      retryDelayOnClusterDown: 200,
      retryDelayOnTryAgain: 200,
      slotsRefreshInterval: 2000,
      redisOptions: { ...nodeOptions, maxRetriesPerRequest: 3, connectionName: `${name}:cmd` },
      ...options.clusterOptions,
    });
    this.commands.on('error', (error: Error) => this.logger.warn({ err: error }, 'redis cluster error'));
    this.commands.on('node error', (error: Error, node: string) => this.logger.warn({ err: error, node }, 'redis cluster node error'));
    const metrics = options.metricsRegistry && createRedisEngineMetrics(options.metricsRegistry);
    if (metrics) {
      // a Cluster has the same `on` and `sendCommand` as one connection: failed commands and errors count alike
      instrumentRedisConnection(this.commands as unknown as Pick<Redis, 'on' | 'sendCommand'>, 'commands', metrics);
    }
    const commands = this.commands;
    const subscriber = new RedisClusterSubscriber(commands, nodeOptions, name, this.logger);
    this.subscriber = subscriber;
    this.roles = redisEngineRoles({
      commands,
      subscriber,
      prefix: this.prefix,
      now,
      logger: this.logger,
      topology: 'cluster',
      metrics,
      // SPUBLISH on the channel's shard: the subscriber connections there that received it
      broadcast: (channel, frame) => redisCall(`publish on ${channel}`, async () => Number(await commands.spublish(channel, frame))),
    });
    Object.assign(this, bindRoles(this.roles));
    this.health = startPingHealthCheck(this.commands, options.healthCheckMs ?? 1000, this.logger, 'redis cluster');
  }

  /** True while the cluster client is ready, PINGs come back and every channel is confirmed on its owner. */
  isReady(): boolean {
    return !this.closed && !this.health.stalled && this.commands.status === 'ready' && this.subscriber.isLive();
  }

  /** Resolves once `isReady()`; throws EngineUnavailableError after `timeoutMs`. For start-up and tests. */
  async ready(timeoutMs = 10_000): Promise<void> {
    await pollUntilReady(() => this.isReady(), () => this.closed, timeoutMs, 'redis cluster', () => this.commands.status);
  }

  /** How many sharded subscriber connections are open (one per master that serves a subscribed channel). */
  subscriberConnections(): number {
    return this.subscriber.linkCount();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.health.stop();
    await this.roles.tasks.close();
    await this.subscriber.close();
    try {
      await this.commands.quit();
    } catch (error) {
      this.logger.warn({ err: error }, 'redis cluster QUIT failed while closing the engine');
      this.commands.disconnect();
    }
  }
}
