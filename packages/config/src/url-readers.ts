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
const CLUSTER_URL = /^rediss?\+cluster:\/\/(?:[^@/]*@)?([^@/]+?)\/?$/;
const CLUSTER_NODE = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/;

/**
 * A redis:// or rediss:// URL (one Redis), or a redis+cluster:// / rediss+cluster:// URL listing any
 * reachable nodes of a Redis Cluster (`[user:password@]host:port,host:port,…`); undefined when unset.
 */
export function readRedisUrl(env: Env, name = 'REDIS_URL', required = false): string | undefined {
  const value = readRaw(env, name);
  if (value === undefined || !/^rediss?\+cluster:/.test(value)) return readUrl(env, name, REDIS_URL, required);
  describeVariable(env, name, `${REDIS_URL.kind} like ${REDIS_URL.example}`, { required });
  const nodes = CLUSTER_URL.exec(value)?.[1]?.split(',');
  const valid = nodes?.every((node) => {
    const port = Number(CLUSTER_NODE.exec(node)?.[1]);
    return port >= 1 && port <= 65_535;
  });
  if (!valid) throw new ConfigError(name, 'a Redis Cluster URL like redis+cluster://host1:6379,host2:6379 (nodes as host:port)', value);
  return value;
}

/** A Redis URL (one Redis or a cluster) that must be there: the cluster entry points cannot run without one. */
export function requireRedisUrl(env: Env, name = 'REDIS_URL'): string {
  const value = readRedisUrl(env, name, true);
  if (value === undefined) throw new ConfigError(name, `${REDIS_URL.kind} like ${REDIS_URL.example} (required)`, undefined);
  return value;
}
