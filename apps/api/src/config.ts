/**
 * The API's configuration, read from the environment once at start. PORT (default 8081), HOST, REDIS_URL
 * (required by the cluster entry point), KEY_PREFIX, LOG_LEVEL, DEMO_QUEUE, BRIDGE_QUEUES, CLEANUP_INTERVAL_MS,
 * AUTH_MODE (required unless the caller gives a default), API_KEYS / API_KEYS_FILE, API_RATE_LIMIT_PER_MINUTE,
 * API_BODY_LIMIT_BYTES.
 */
import { readApiKeys, readAuthSettings, type ApiKeyRegistry, type AuthSettings } from '@taskpulse/auth';
import {
  ConfigError,
  readDurationMs,
  readHost,
  readInt,
  readLogLevel,
  readName,
  readNameList,
  readRedisUrl,
  requireRedisUrl,
  type Env,
  type LogLevel,
} from '@taskpulse/config';
import { DEFAULT_CLEANUP_INTERVAL_MS } from './plugins/history-cleanup-plugin';
import { DEFAULT_DEMO_QUEUE } from './demo-queue';
import type { ApiAuthMode } from './api-auth';
import { DEFAULT_BODY_LIMIT } from './build';

/** Requests per minute per API key (or per client IP without one) in jwt mode; insecure mode has no limit by default. */
export const DEFAULT_RATE_LIMIT_PER_MINUTE = 600;

export interface ApiConfig {
  port: number;
  host: string;
  redisUrl: string | undefined;
  keyPrefix: string;
  logLevel: LogLevel;
  /** Queue `POST /api/v1/demo/jobs` enqueues to when there is Redis (default video_processing). */
  demoQueue: string;
  /**
   * Queues of plain BullMQ jobs the bridge reports (default none). The demo queue may not be one of
   * them: its worker reports through the reporter, and the bridge would report every job twice.
   */
  bridgeQueues: string[];
  /** Milliseconds between history cleanups (default 1 h, 0 = off). */
  cleanupIntervalMs: number;
  /** AUTH_MODE and, in jwt mode, the token key, issuer and audience (packages/auth's readAuthSettings). */
  auth: AuthSettings;
  /** Publish API keys (hashes only); empty when none are configured. */
  apiKeys: ApiKeyRegistry;
  /** Requests per minute per API key or client IP; 0 is off (default 600 in jwt mode, 0 in insecure mode). */
  rateLimitPerMinute: number;
  /** Largest request body in bytes (Fastify bodyLimit; default 128 KiB). */
  bodyLimit: number;
}

export interface LoadApiConfigOptions {
  /** Port when PORT is unset (8081 for the API, 8080 for the all-in-one start). */
  defaultPort?: number;
  /** The cluster entry point cannot run without Redis. */
  requireRedis?: boolean;
  /** AUTH_MODE when it is unset (npm start: insecure); without a default AUTH_MODE is required. */
  defaultAuthMode?: ApiAuthMode;
}

/** Reads and validates the API's environment; throws ConfigError naming the bad variable. */
export function loadApiConfig(env: Env = process.env, options: LoadApiConfigOptions = {}): ApiConfig {
  const demoQueue = readName(env, 'DEMO_QUEUE', DEFAULT_DEMO_QUEUE);
  const bridgeQueues = readNameList(env, 'BRIDGE_QUEUES', []);
  if (bridgeQueues.includes(demoQueue)) {
    throw new ConfigError(
      'BRIDGE_QUEUES',
      `a list without the demo queue ${demoQueue} (its worker reports through the reporter; a bridge would report each job twice)`,
      env.BRIDGE_QUEUES,
    );
  }
  const auth = readAuthSettings(env, options.defaultAuthMode === undefined ? {} : { defaultMode: options.defaultAuthMode });
  return {
    port: readInt(env, 'PORT', options.defaultPort ?? 8081, 1, 65_535),
    host: readHost(env),
    redisUrl: options.requireRedis ? requireRedisUrl(env) : readRedisUrl(env),
    keyPrefix: readName(env, 'KEY_PREFIX', 'tp'),
    logLevel: readLogLevel(env),
    demoQueue,
    bridgeQueues,
    cleanupIntervalMs: readDurationMs(env, 'CLEANUP_INTERVAL_MS', DEFAULT_CLEANUP_INTERVAL_MS, {
      min: 1000,
      max: 86_400_000,
      zeroMeansOff: true,
    }),
    auth,
    apiKeys: readApiKeys(env),
    rateLimitPerMinute: readInt(env, 'API_RATE_LIMIT_PER_MINUTE', auth.mode === 'jwt' ? DEFAULT_RATE_LIMIT_PER_MINUTE : 0, 0, 1_000_000),
    bodyLimit: readInt(env, 'API_BODY_LIMIT_BYTES', DEFAULT_BODY_LIMIT, 1024, 16 * 1024 * 1024),
  };
}
