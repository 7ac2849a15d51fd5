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
import { idProblem, LIMITS } from '@taskpulse/protocol';
import type { GatewayLimits } from './options';

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
  /** SOFT_BACKPRESSURE_BYTES, default 64 KiB: past it a socket's progress frames are conflated (slow-sockets.ts). */
  softBackpressureBytes: number;
  /** CLIENT_FRAME_HARD_CAP_BYTES, default 64 KiB: a client frame over it closes the connection with 1009. */
  clientFrameHardCapBytes: number;
  /** PING_INTERVAL_SECONDS, default 25: dead peers are closed with 4001 within two intervals. */
  pingIntervalSeconds: number;
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
    softBackpressureBytes: 0,
    clientFrameHardCapBytes: readInt(env, 'CLIENT_FRAME_HARD_CAP_BYTES', 64 * 1024, LIMITS.clientFrameBytes, 16 << 20),
    pingIntervalSeconds: readInt(env, 'PING_INTERVAL_SECONDS', 25, 1, 3600),
    logLevel: readLogLevel(env),
  };
  // The soft limit is checked against the hard one, so it is read once the hard one is known.
  settings.softBackpressureBytes = readInt(env, 'SOFT_BACKPRESSURE_BYTES', Math.min(64 * 1024, settings.maxBackpressureBytes), 1024, settings.maxBackpressureBytes);
  const nodeId = readString(env, 'NODE_ID', { problem: idProblem, expected: 'an id of letters, digits and _ . : @ -' });
  if (nodeId !== undefined) settings.nodeId = nodeId;
  return settings;
}

/** The GatewayLimits the settings set; everything else keeps its default. */
export function limitsFromSettings(settings: GatewaySettings): Partial<GatewayLimits> {
  return {
    maxBackpressureBytes: settings.maxBackpressureBytes,
    softBackpressureBytes: settings.softBackpressureBytes,
    clientFrameHardCapBytes: settings.clientFrameHardCapBytes,
    pingIntervalSeconds: settings.pingIntervalSeconds,
  };
}

/** Reads the cluster entry point's configuration: the settings plus a required REDIS_URL. */
export function loadGatewayConfig(env: Env = process.env): GatewayConfig {
  return { ...readGatewaySettings(env), redisUrl: requireRedisUrl(env) };
}
