/**
 * The cluster's engine: the connections, their health, and the four roles played by their own objects:
 * task events in Redis (redis-task-store.ts and lua/), channels over one subscriber connection per engine
 * (redis-channel-link.ts; broadcasts go out on the command connection), node counts with expiry
 * (redis-node-registry.ts), connection sessions for resume (redis-session-store.ts). The role methods are
 * bound from those objects (compose-engine.ts), not forwarded by hand.
 * Two connections: commands, and the subscriber. Every Redis failure surfaces as EngineUnavailableError.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Registry } from 'prom-client';
import type { Engine, EngineRoles, NodeRegistry, PubSub, SessionStore, TaskStore } from './engine';
import { bindRoles } from './compose-engine';
import { defaultEngineLogger, type EngineLogger } from './engine-logger';
import { pollUntilReady, startPingHealthCheck, type PingHealthCheck } from './ping-health-check';
import { redisEngineRoles } from './redis-roles';
import type { RedisTaskStore } from './redis-task-store';
import { redisCall } from './redis-call';
import { createRedisEngineMetrics, instrumentRedisConnection } from './redis-metrics';
import { RedisChannelLink } from './redis-channel-link';
import { publishTaskEventsScript, readHistoryScript } from './redis-task-store';

export interface RedisEngineOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://`). */
  url: string;
  /** Key and channel prefix (default `tp`). */
  prefix?: string;
  /** Where connection errors and failed resubscriptions are logged (default: a pino logger). */
  logger?: EngineLogger;
  /** The clock, in ms, for the status index and node expiry; tests move it. */
  now?: () => number;
  /** Names both connections in CLIENT LIST as `<name>:cmd` and `<name>:sub` (default `taskpulse`). */
  connectionName?: string;
  /** Extra ioredis options for both connections (TLS, timeouts, retry strategy). */
  redisOptions?: RedisOptions;
  /**
   * How often the command connection is PINGed, in ms (default 1000): a PING unanswered for this long
   * marks the engine not ready (a stalled Redis keeps its sockets open, so connection status alone misses it).
   */
  healthCheckMs?: number;
  /** Where the engine's Redis metrics go (redis-metrics.ts); none are kept without one. */
  metricsRegistry?: Registry;
}

/**
 * A command unanswered this long fails with EngineUnavailableError (ioredis `commandTimeout`), so a stalled
 * Redis cannot hang a publisher. Its outcome is then unknown: Redis may still run it when it wakes up.
 */
export const DEFAULT_COMMAND_TIMEOUT_MS = 2000;

/** Creates the Redis engine; connections open at once, commands queue until they are ready (see `ready()`). */
export function createRedisEngine(options: RedisEngineOptions): RedisEngine {
  return new RedisEngine(options);
}

/** The role methods of RedisEngine, bound in its constructor from the objects playing each role. */
export interface RedisEngine extends TaskStore, PubSub, NodeRegistry, SessionStore {}

/** Engine on Redis: one command connection and one subscriber connection per instance. */
export class RedisEngine implements Engine {
  readonly kind = 'redis';
  readonly prefix: string;
  /** The objects playing the four roles (each replaceable alone with composeEngine). */
  readonly roles: EngineRoles & { tasks: RedisTaskStore };
  private readonly commands: Redis;
  private readonly subscriberConnection: Redis;
  private readonly subscriber: RedisChannelLink;
  private readonly logger: EngineLogger;
  private closed = false;
  /** Set while a health PING has been unanswered for longer than the interval. */
  private readonly health: PingHealthCheck;

  constructor(options: RedisEngineOptions) {
    this.prefix = options.prefix ?? 'tp';
    this.logger = options.logger ?? defaultEngineLogger();
    const now = options.now ?? Date.now;
    const name = options.connectionName ?? 'taskpulse';
    // a request waits through a few reconnect attempts, then fails as EngineUnavailableError instead of hanging
    // and a command a stalled Redis never answers fails after DEFAULT_COMMAND_TIMEOUT_MS
    const base: RedisOptions = { maxRetriesPerRequest: 3, commandTimeout: DEFAULT_COMMAND_TIMEOUT_MS, ...options.redisOptions };
    this.commands = new Redis(options.url, { ...base, connectionName: `${name}:cmd` });
    this.subscriberConnection = new Redis(options.url, { ...base, connectionName: `${name}:sub`, autoResubscribe: false });
    const metrics = options.metricsRegistry && createRedisEngineMetrics(options.metricsRegistry);
    for (const [role, connection] of [
      ['commands', this.commands],
      ['subscriber', this.subscriberConnection],
    ] as const) {
      connection.on('error', (error: Error) => this.logger.warn({ err: error, connection: role }, 'redis connection error'));
      if (metrics) instrumentRedisConnection(connection, role, metrics);
    }
    this.commands.on('ready', () => {
      for (const script of [publishTaskEventsScript, readHistoryScript]) {
        script.preload(this.commands).catch((error: unknown) => {
          this.logger.warn({ err: error, script: script.id }, 'could not preload script; EVAL fallback will load it');
        });
      }
    });
    const subscriber = new RedisChannelLink(this.subscriberConnection, this.logger);
    const commands = this.commands;
    this.subscriber = subscriber;
    this.roles = redisEngineRoles({
      commands,
      subscriber,
      prefix: this.prefix,
      now,
      logger: this.logger,
      topology: 'single',
      metrics,
      // the number of subscriber connections (processes) that received the frame
      broadcast: (channel, frame) => redisCall(`publish on ${channel}`, () => commands.publish(channel, frame)),
    });
    Object.assign(this, bindRoles(this.roles));
    this.health = startPingHealthCheck(this.commands, options.healthCheckMs ?? 1000, this.logger, 'redis');
  }

  /** True while both connections are ready and every subscribed channel is confirmed on the current connection. */
  isReady(): boolean {
    return !this.closed && !this.health.stalled && this.commands.status === 'ready' && this.subscriber.isLive();
  }

  /** Resolves once `isReady()`; throws EngineUnavailableError after `timeoutMs`. For start-up and tests. */
  async ready(timeoutMs = 10_000): Promise<void> {
    await pollUntilReady(() => this.isReady(), () => this.closed, timeoutMs, 'redis', () => `commands: ${this.commands.status}, subscriber: ${this.subscriberConnection.status}`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.health.stop();
    await this.roles.tasks.close();
    await this.subscriber.close();
    await Promise.all([quit(this.commands, this.logger), quit(this.subscriberConnection, this.logger)]);
  }
}

/** QUIT when the connection is up; otherwise (or when QUIT fails) drop it, so close never hangs. */
async function quit(connection: Redis, logger: EngineLogger): Promise<void> {
  if (connection.status !== 'ready') {
    connection.disconnect();
    return;
  }
  try {
    await connection.quit();
  } catch (error) {
    // the connection is gone already; disconnect stops its reconnect attempts
    logger.warn({ err: error }, 'redis QUIT failed while closing the engine');
    connection.disconnect();
  }
}
