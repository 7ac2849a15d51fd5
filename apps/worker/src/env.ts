/**
 * Reading configuration from the environment, once, with errors that name the variable and the form it
 * must take. Both apps (and the all-in-one start script) use these readers, so one ConfigError type
 * reaches every entry point.
 */

/** A missing or malformed environment variable; `variable` names it and the message says what was expected. */
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

function raw(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** A whole number in [min, max], or the default when unset. */
export function readInt(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < min || number > max) {
    throw new ConfigError(name, `a whole number from ${min} to ${max}`, value);
  }
  return number;
}

/** A redis:// or rediss:// URL, or undefined when unset (callers that need one use requireRedisUrl). */
export function readRedisUrl(env: Env, name = 'REDIS_URL'): string | undefined {
  const value = raw(env, name);
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(name, 'a Redis URL like redis://host:6379', value);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ConfigError(name, 'a Redis URL like redis://host:6379 (scheme redis: or rediss:)', value);
  }
  return value;
}

/** A Redis URL that must be there: the cluster entry points cannot run without one. */
export function requireRedisUrl(env: Env, name = 'REDIS_URL'): string {
  const url = readRedisUrl(env, name);
  if (url === undefined) throw new ConfigError(name, 'a Redis URL like redis://host:6379 (required)', undefined);
  return url;
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** A short name (key prefix, queue name): letters, digits and _ . -. */
export function readName(env: Env, name: string, fallback: string): string {
  const value = raw(env, name) ?? fallback;
  if (!NAME.test(value)) throw new ConfigError(name, '1-64 letters, digits or _ . -', value);
  return value;
}

/** A comma-separated list of names; the default applies only when unset, so an empty value means none. */
export function readNameList(env: Env, name: string, fallback: string[]): string[] {
  const value = env[name];
  if (value === undefined) return fallback;
  const names = value.split(',').map((part) => part.trim()).filter((part) => part !== '');
  for (const part of names) {
    if (!NAME.test(part)) throw new ConfigError(name, 'a comma-separated list of names (letters, digits, _ . -)', value);
  }
  return names;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A pino log level, default info. */
export function readLogLevel(env: Env, name = 'LOG_LEVEL'): LogLevel {
  const value = raw(env, name) ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(value)) throw new ConfigError(name, `one of ${LOG_LEVELS.join(', ')}`, value);
  return value as LogLevel;
}
