/** The worker's configuration, read from the environment once at start. */
import { readHost, readInt, readLogLevel, readName, requireRedisUrl, type Env, type LogLevel } from '@taskpulse/config';
import { readAuthMode, type AuthMode } from '@taskpulse/auth';
import { VIDEO_QUEUE } from './video-worker';

/** Where the worker serves /metrics unless METRICS_PORT says otherwise. */
export const DEFAULT_WORKER_METRICS_PORT = 8082;

export interface WorkerConfig {
  redisUrl: string;
  /** Engine key and channel prefix (KEY_PREFIX, default tp). */
  keyPrefix: string;
  /** BullMQ queue to consume (QUEUE_NAME, default video_processing). */
  queueName: string;
  /** Jobs processed at once (CONCURRENCY, default 4). */
  concurrency: number;
  /** Milliseconds each demo step sleeps (STEP_DELAY_MS, default 400). */
  stepMs: number;
  logLevel: LogLevel;
  /** Port of /metrics, /healthz and /readyz (METRICS_PORT, default 8082; 0 picks a free port). */
  metricsPort: number;
  /** Interface they listen on (HOST, default 0.0.0.0). */
  host: string;
  /** AUTH_MODE, required like every cluster entry point's; the worker serves nothing, so it only checks it. */
  authMode: AuthMode;
}

/** How the worker runs jobs: the part of its settings that needs no Redis (npm start reads it too). */
export type WorkerJobSettings = Pick<WorkerConfig, 'concurrency' | 'stepMs'>;

/** Reads CONCURRENCY and STEP_DELAY_MS with their defaults; throws ConfigError naming the bad variable. */
export function readWorkerJobSettings(env: Env = process.env): WorkerJobSettings {
  return {
    concurrency: readInt(env, 'CONCURRENCY', 4, 1, 256),
    stepMs: readInt(env, 'STEP_DELAY_MS', 400, 0, 60_000),
  };
}

/** Reads and validates the worker's environment; throws ConfigError naming the bad variable. */
export function loadWorkerConfig(env: Env = process.env): WorkerConfig {
  const redisUrl = requireRedisUrl(env);
  const keyPrefix = readName(env, 'KEY_PREFIX', 'tp');
  const queueName = readName(env, 'QUEUE_NAME', VIDEO_QUEUE);
  const { concurrency, stepMs } = readWorkerJobSettings(env);
  return {
    redisUrl,
    keyPrefix,
    queueName,
    concurrency,
    stepMs,
    logLevel: readLogLevel(env),
    metricsPort: readInt(env, 'METRICS_PORT', DEFAULT_WORKER_METRICS_PORT, 0, 65_535),
    host: readHost(env),
    authMode: readAuthMode(env),
  };
}
