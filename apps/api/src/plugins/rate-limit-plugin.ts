/**
 * Requests per minute per API key (by its id; per client IP for calls without a valid key), with
 * @fastify/rate-limit. On the Redis engine the counters live in Redis (`<prefix>:ratelimit:<key>`), so
 * the limit holds across API replicas; on the memory engine they are per process. Over the limit: 429
 * `rate_limited` with `Retry-After` (seconds). Registered inside the API's route scope, so probes and
 * /metrics are never limited.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Cluster, Redis } from 'ioredis';
import { clusterNodeOptions, isRedisClusterUrl, parseRedisClusterUrl } from '@taskpulse/engine';
import { ApiError } from '../error-handler';

export interface RateLimitOptions {
  /** Requests per minute per key or IP; 0 registers nothing. */
  perMinute: number;
  /** Redis for shared counters (the API's Redis URL when it runs on the Redis engine). */
  redisUrl?: string;
  /** Key prefix of the counters in Redis (the engine's prefix). */
  prefix: string;
}

/** The rate-limit key: the API key's id when the request presents a configured key, else the client IP. */
export function rateLimitKey(app: FastifyInstance, request: FastifyRequest): string {
  const header = request.headers['x-api-key'];
  const key = request.apiKey ?? (typeof header === 'string' ? app.apiAuth.apiKeys.find(header.trim()) : undefined);
  return key === undefined ? `ip:${request.ip}` : `key:${key.id}`;
}

/** Registers the limit on `scope` (its routes and its children's); the Redis client it opens closes with the app. */
export async function registerRateLimit(app: FastifyInstance, scope: FastifyInstance, options: RateLimitOptions): Promise<void> {
  if (options.perMinute <= 0) return;
  let redis: Redis | Cluster | undefined;
  if (options.redisUrl !== undefined) {
    // Its own connection: a slow limiter must not queue behind the engine's commands. No offline queue:
    // while Redis is away the engine answers 503 anyway, and the limiter must not pile up commands.
    redis = isRedisClusterUrl(options.redisUrl)
      ? rateLimitCluster(options.redisUrl)
      : new Redis(options.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
    redis.on('error', (error: Error) => app.log.warn({ err: error, component: 'rate-limit' }, 'rate-limit redis connection error'));
    const client = redis;
    app.addHook('onClose', async () => {
      await client.quit().catch((error: unknown) => app.log.warn({ err: error }, 'rate-limit redis QUIT failed'));
    });
  }
  await scope.register(rateLimit, {
    max: options.perMinute,
    timeWindow: 60_000,
    keyGenerator: (request) => rateLimitKey(app, request),
    ...(redis === undefined ? {} : { redis, nameSpace: `${options.prefix}:ratelimit:` }),
    // A limiter whose Redis failed lets the request through to the engine, which answers 503 when Redis is down;
    // each such failure is logged by the connection's error handler above.
    skipOnError: true,
    errorResponseBuilder: (request, context) =>
      new ApiError(
        429,
        'rate_limited',
        `too many requests for ${rateLimitKey(app, request).replace(':', ' ')}: at most ${context.max} a minute; retry in ${Math.ceil(context.ttl / 1000)} s`,
      ),
  });
}

/** The limiter's connection to a Redis Cluster (each counter is one key: any slot will do). */
function rateLimitCluster(url: string): Cluster {
  const target = parseRedisClusterUrl(url);
  return new Cluster(target.nodes, {
    enableOfflineQueue: false,
    redisOptions: {
      maxRetriesPerRequest: 1,
      ...clusterNodeOptions(target),
    },
  });
}
