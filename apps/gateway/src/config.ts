/**
 * The gateway's configuration: which variables it reads, read from the environment once at start with
 * @taskpulse/config's readers. Every failure is a ConfigError that names the variable and the form it
 * must take, so a bad deployment says what to fix.
 */
import {
  readHost,
  readInt,
  readLogLevel,
  readName,
  readString,
  requireRedisUrl,
  type Env,
  type LogLevel,
} from '@taskpulse/config';
import { idProblem } from '@taskpulse/protocol';

/** Everything but Redis: what the all-in-one process and the cluster entry point share. */
export interface GatewaySettings {
  /** PORT, default 8080. */
  port: number;
  /** HOST, default 0.0.0.0. */
  host: string;
  /** KEY_PREFIX, default tp. */
  keyPrefix: string;
  /** NODE_ID; unset means hostname plus a random suffix, chosen by the gateway. */
  nodeId?: string;
  /** HEARTBEAT_INTERVAL_MS, default 5000. */
  heartbeatIntervalMs: number;
  /** MAX_BACKPRESSURE_BYTES, default 1 MiB: a socket with more unsent bytes is closed as a slow consumer. */
  maxBackpressureBytes: number;
  /** SESSION_TTL_SECONDS, default 120: how long a connection's session (and its subscriptions) outlives it for a resume. */
  sessionTtlSeconds: number;
  /** SESSION_REFRESH_MS, default 1000: how often live sessions are saved; bounds what a restore after kill -9 repeats. */
  sessionRefreshMs: number;
  /** LOG_LEVEL, default info. */
  logLevel: LogLevel;
}

/** The cluster entry point's configuration: the settings plus the Redis it cannot run without. */
export interface GatewayConfig extends GatewaySettings {
  /** REDIS_URL, required. */
  redisUrl: string;
}

/** Reads and validates the settings every gateway needs; throws ConfigError naming the bad variable. */
export function readGatewaySettings(env: Env = process.env): GatewaySettings {
  const settings: GatewaySettings = {
    port: readInt(env, 'PORT', 8080, 0, 65_535),
    host: readHost(env),
    keyPrefix: readName(env, 'KEY_PREFIX', 'tp'),
    heartbeatIntervalMs: readInt(env, 'HEARTBEAT_INTERVAL_MS', 5000, 100, 600_000),
    maxBackpressureBytes: readInt(env, 'MAX_BACKPRESSURE_BYTES', 1 << 20, 16_384, 1 << 30),
    sessionTtlSeconds: readInt(env, 'SESSION_TTL_SECONDS', 120, 1, 86_400),
    sessionRefreshMs: readInt(env, 'SESSION_REFRESH_MS', 1000, 10, 600_000),
    logLevel: readLogLevel(env),
  };
  const nodeId = readString(env, 'NODE_ID', { problem: idProblem, expected: 'an id of letters, digits and _ . : @ -' });
  if (nodeId !== undefined) settings.nodeId = nodeId;
  return settings;
}

/** Reads the cluster entry point's configuration: the settings plus a required REDIS_URL. */
export function loadGatewayConfig(env: Env = process.env): GatewayConfig {
  return { ...readGatewaySettings(env), redisUrl: requireRedisUrl(env) };
}
