/** The worker's configuration, read from the environment once at start. */
import { readInt, readLogLevel, readName, requireRedisUrl, type Env, type LogLevel } from '@taskpulse/config';
import { readAuthMode, type AuthMode } from '@taskpulse/auth';
import { VIDEO_QUEUE } from './video-worker';

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
  return { redisUrl, keyPrefix, queueName, concurrency, stepMs, logLevel: readLogLevel(env), authMode: readAuthMode(env) };
}
