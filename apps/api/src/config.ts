/**
 * The API's configuration, read from the environment once at start. PORT (default 8081), HOST, REDIS_URL
 * (required by the cluster entry point), KEY_PREFIX, LOG_LEVEL, DEMO_QUEUE, BRIDGE_QUEUES, CLEANUP_INTERVAL_MS.
 */
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
}

export interface LoadApiConfigOptions {
  /** Port when PORT is unset (8081 for the API, 8080 for the all-in-one start). */
  defaultPort?: number;
  /** The cluster entry point cannot run without Redis. */
  requireRedis?: boolean;
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
  };
}
