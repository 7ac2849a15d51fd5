/**
 * The gateway's configuration: which variables it reads, read from the environment once at start with
 * @taskpulse/config's readers. Every failure is a ConfigError that names the variable and the form it
 * must take, so a bad deployment says what to fix.
 */
import {
  describeVariable,
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
import { readAuthSettings, type AuthMode, type AuthSettings } from '@taskpulse/auth';
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
  /** SESSION_TTL_SECONDS, default 120: how long a connection's session (and its subscriptions) outlives it for a resume. */
  sessionTtlSeconds: number;
  /** SESSION_REFRESH_MS, default 1000: how often each live session is saved; bounds what a restore after kill -9 repeats (each pass costs the gateway CPU per connection). */
  sessionRefreshMs: number;
  /** SOFT_BACKPRESSURE_BYTES, default 64 KiB: past it a socket's progress frames are conflated (slow-sockets.ts). */
  softBackpressureBytes: number;
  /** CLIENT_FRAME_HARD_CAP_BYTES, default 64 KiB: a client frame over it closes the connection with 1009. */
  clientFrameHardCapBytes: number;
  /** PING_INTERVAL_SECONDS, default 25: dead peers are closed with 4001 within two intervals. */
  pingIntervalSeconds: number;
  /** LOG_LEVEL, default info. */
  logLevel: LogLevel;
  /** AUTH_MODE (required unless a default is given), JWT_SECRET | JWT_PUBLIC_KEY | JWT_JWKS_URL, JWT_ISSUER, JWT_AUDIENCE, ALLOWED_ORIGINS. */
  auth: AuthSettings;
  /** MAX_CONNECTIONS_PER_USER: open connections per user id on one node; default 100 in jwt mode, 0 (no limit) in insecure mode. */
  maxConnectionsPerUser: number;
}

/** Connections one user may hold on a node in jwt mode unless MAX_CONNECTIONS_PER_USER says otherwise (tabs, devices). */
export const DEFAULT_MAX_CONNECTIONS_PER_USER = 100;

export interface GatewaySettingsOptions {
  /** AUTH_MODE when unset: npm start gives insecure; the cluster entry point gives none, so it is required. */
  defaultAuthMode?: AuthMode;
}

/** The cluster entry point's configuration: the settings plus the Redis it cannot run without. */
export interface GatewayConfig extends GatewaySettings {
  /** REDIS_URL, required. */
  redisUrl: string;
}

/** Reads and validates the settings every gateway needs; throws ConfigError naming the bad variable. */
export function readGatewaySettings(env: Env = process.env, options: GatewaySettingsOptions = {}): GatewaySettings {
  const auth = readAuthSettings(env, options.defaultAuthMode === undefined ? {} : { defaultMode: options.defaultAuthMode });
  const settings: GatewaySettings = {
    port: readInt(env, 'PORT', 8080, 0, 65_535),
    host: readHost(env),
    keyPrefix: readName(env, 'KEY_PREFIX', 'tp'),
    heartbeatIntervalMs: readInt(env, 'HEARTBEAT_INTERVAL_MS', 5000, 100, 600_000),
    maxBackpressureBytes: readInt(env, 'MAX_BACKPRESSURE_BYTES', 1 << 20, 16_384, 1 << 30),
    sessionTtlSeconds: readInt(env, 'SESSION_TTL_SECONDS', 120, 1, 86_400),
    sessionRefreshMs: readInt(env, 'SESSION_REFRESH_MS', 1000, 10, 600_000),
    softBackpressureBytes: 0,
    clientFrameHardCapBytes: readInt(env, 'CLIENT_FRAME_HARD_CAP_BYTES', 64 * 1024, LIMITS.clientFrameBytes, 16 << 20),
    pingIntervalSeconds: readInt(env, 'PING_INTERVAL_SECONDS', 25, 1, 3600),
    logLevel: readLogLevel(env),
    auth,
    maxConnectionsPerUser: readInt(env, 'MAX_CONNECTIONS_PER_USER', auth.mode === 'jwt' ? DEFAULT_MAX_CONNECTIONS_PER_USER : 0, 0, 1_000_000),
  };
  // The soft limit is checked against the hard one, so it is read once the hard one is known.
  describeVariable(env, 'SOFT_BACKPRESSURE_BYTES', 'a whole number from 1024 to MAX_BACKPRESSURE_BYTES', { fallback: '65536 (at most MAX_BACKPRESSURE_BYTES)' });
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
    sessionTtlSeconds: settings.sessionTtlSeconds,
    sessionRefreshMs: settings.sessionRefreshMs,
    connectionsPerUser: settings.maxConnectionsPerUser,
  };
}

/** Reads the cluster entry point's configuration: the settings (AUTH_MODE required) plus a required REDIS_URL. */
export function loadGatewayConfig(env: Env = process.env): GatewayConfig {
  const redisUrl = requireRedisUrl(env);
  return { ...readGatewaySettings(env), redisUrl };
}
