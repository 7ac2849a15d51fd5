/**
 * The gateway's configuration, read from the environment once at start. Every failure is a ConfigError
 * that names the variable and the form it must take, so a bad deployment says what to fix.
 */
import { idProblem } from '@taskpulse/protocol';

/** A missing or malformed environment variable; `variable` names it, the message says what was expected. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    readonly expected: string,
    readonly got: string | undefined,
  ) {
    super(`${variable} must be ${expected}, got ${got === undefined ? 'nothing' : JSON.stringify(got)}`);
  }
}

export type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

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
  /** LOG_LEVEL, default info. */
  logLevel: LogLevel;
}

/** The cluster entry point's configuration: the settings plus the Redis it cannot run without. */
export interface GatewayConfig extends GatewaySettings {
  /** REDIS_URL, required. */
  redisUrl: string;
}

function raw(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function readInt(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < min || number > max) {
    throw new ConfigError(name, `a whole number from ${min} to ${max}`, value);
  }
  return number;
}

function readHost(env: Env): string {
  const value = raw(env, 'HOST') ?? '0.0.0.0';
  if (!/^[A-Za-z0-9.:-]{1,253}$/.test(value)) throw new ConfigError('HOST', 'an IP address or host name like 0.0.0.0', value);
  return value;
}

function readPrefix(env: Env): string {
  const value = raw(env, 'KEY_PREFIX') ?? 'tp';
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(value)) throw new ConfigError('KEY_PREFIX', '1-64 letters, digits or _ . -', value);
  return value;
}

function readNodeId(env: Env): string | undefined {
  const value = raw(env, 'NODE_ID');
  if (value === undefined) return undefined;
  const problem = idProblem(value);
  if (problem) throw new ConfigError('NODE_ID', `an id of letters, digits and _ . : @ - (${problem})`, value);
  return value;
}

function readLogLevel(env: Env): LogLevel {
  const value = raw(env, 'LOG_LEVEL') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(value)) throw new ConfigError('LOG_LEVEL', `one of ${LOG_LEVELS.join(', ')}`, value);
  return value as LogLevel;
}

function readRedisUrl(env: Env): string {
  const value = raw(env, 'REDIS_URL');
  const expected = 'a Redis URL like redis://host:6379';
  if (value === undefined) throw new ConfigError('REDIS_URL', `${expected} (required)`, undefined);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError('REDIS_URL', expected, value);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new ConfigError('REDIS_URL', `${expected} (scheme redis: or rediss:)`, value);
  return value;
}

/** Reads and validates the settings every gateway needs; throws ConfigError naming the bad variable. */
export function readGatewaySettings(env: Env = process.env): GatewaySettings {
  const settings: GatewaySettings = {
    port: readInt(env, 'PORT', 8080, 0, 65_535),
    host: readHost(env),
    keyPrefix: readPrefix(env),
    heartbeatIntervalMs: readInt(env, 'HEARTBEAT_INTERVAL_MS', 5000, 100, 600_000),
    maxBackpressureBytes: readInt(env, 'MAX_BACKPRESSURE_BYTES', 1 << 20, 16_384, 1 << 30),
    logLevel: readLogLevel(env),
  };
  const nodeId = readNodeId(env);
  if (nodeId !== undefined) settings.nodeId = nodeId;
  return settings;
}

/** Reads the cluster entry point's configuration: the settings plus a required REDIS_URL. */
export function loadGatewayConfig(env: Env = process.env): GatewayConfig {
  return { ...readGatewaySettings(env), redisUrl: readRedisUrl(env) };
}
