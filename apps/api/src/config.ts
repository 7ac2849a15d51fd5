/**
 * The API's configuration, read from the environment once at start. PORT (default 8081), HOST, REDIS_URL
 * (required by the cluster entry point), KEY_PREFIX, LOG_LEVEL, DEMO_QUEUE, BRIDGE_QUEUES, STEP_DELAY_MS.
 */
import {
  ConfigError,
  readInt,
  readLogLevel,
  readName,
  readNameList,
  readRedisUrl,
  requireRedisUrl,
  VIDEO_QUEUE,
  type Env,
  type LogLevel,
} from '@taskpulse/worker';

export interface ApiConfig {
  port: number;
  host: string;
  redisUrl: string | undefined;
  keyPrefix: string;
  logLevel: LogLevel;
  /** Queue `POST /api/v1/demo/jobs` enqueues to (default video_processing). */
  demoQueue: string;
  /**
   * Queues of plain BullMQ jobs the bridge reports (default none). The demo queue may not be one of
   * them: its worker reports through the reporter, and the bridge would report every job twice.
   */
  bridgeQueues: string[];
  /** Step duration of in-process demo jobs, ms (default 400). */
  stepMs: number;
}

export interface LoadApiConfigOptions {
  /** Port when PORT is unset (8081 for the API, 8080 for the all-in-one start). */
  defaultPort?: number;
  /** The cluster entry point cannot run without Redis. */
  requireRedis?: boolean;
}

/** Reads and validates the API's environment; throws ConfigError naming the bad variable. */
export function loadApiConfig(env: Env = process.env, options: LoadApiConfigOptions = {}): ApiConfig {
  const demoQueue = readName(env, 'DEMO_QUEUE', VIDEO_QUEUE);
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
    stepMs: readInt(env, 'STEP_DELAY_MS', 400, 0, 60_000),
  };
}

function readHost(env: Env): string {
  const host = env.HOST?.trim() || '0.0.0.0';
  if (!/^[A-Za-z0-9.:-]+$/.test(host)) throw new ConfigError('HOST', 'an interface address or host name, e.g. 0.0.0.0', host);
  return host;
}
