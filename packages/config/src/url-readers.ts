/**
 * URL readers: the value must parse as a URL with one of the allowed schemes. Only the scheme is
 * checked; whether the host answers is the connection's business, not configuration's.
 */
import { ConfigError, type Env } from './config-error';
import { readRaw } from './env-readers';
import { describeVariable } from './describe';

export interface UrlRule {
  /** Allowed schemes without the colon, e.g. ['redis', 'rediss']. */
  schemes: readonly string[];
  /** An example for the error message, e.g. "redis://host:6379". */
  example: string;
  /** What kind of URL, for the error message (default "a URL"). */
  kind?: string;
}

/** A URL with one of `rule.schemes`, or undefined when unset. */
export function readUrl(env: Env, name: string, rule: UrlRule, required = false): string | undefined {
  const expected = `${rule.kind ?? 'a URL'} like ${rule.example}`;
  describeVariable(env, name, expected, { required });
  const value = readRaw(env, name);
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(name, expected, value);
  }
  if (!rule.schemes.includes(url.protocol.slice(0, -1))) {
    throw new ConfigError(name, `${expected} (scheme ${rule.schemes.map((s) => `${s}:`).join(' or ')})`, value);
  }
  return value;
}

/** A URL that must be there; the error says it is required. */
export function requireUrl(env: Env, name: string, rule: UrlRule): string {
  const value = readUrl(env, name, rule, true);
  if (value === undefined) throw new ConfigError(name, `${rule.kind ?? 'a URL'} like ${rule.example} (required)`, undefined);
  return value;
}

const REDIS_URL: UrlRule = { schemes: ['redis', 'rediss'], example: 'redis://host:6379', kind: 'a Redis URL' };

/** A redis:// or rediss:// URL, or undefined when unset (the all-in-one process then runs in memory). */
export function readRedisUrl(env: Env, name = 'REDIS_URL'): string | undefined {
  return readUrl(env, name, REDIS_URL);
}

/** A Redis URL that must be there: the cluster entry points cannot run without one. */
export function requireRedisUrl(env: Env, name = 'REDIS_URL'): string {
  return requireUrl(env, name, REDIS_URL);
}
