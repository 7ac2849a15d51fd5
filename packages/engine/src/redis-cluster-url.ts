/**
 * Where a Redis Cluster is: `redis+cluster://[user:password@]host:port,host:port,…` (`rediss+cluster://`
 * for TLS). Any reachable nodes will do: the client learns the rest of the cluster from them. One string,
 * so every process points at a cluster through the REDIS_URL it already reads.
 */

import type { RedisOptions } from 'ioredis';

/** The nodes and credentials a cluster URL names. */
export interface RedisClusterTarget {
  nodes: Array<{ host: string; port: number }>;
  username?: string;
  password?: string;
  tls: boolean;
}

const SCHEME = /^(rediss?)\+cluster:\/\/(.*)$/;
const NODE = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/;

/** True for a `redis+cluster://` or `rediss+cluster://` URL (whatever follows). */
export function isRedisClusterUrl(url: string): boolean {
  return SCHEME.test(url);
}

/** Parses a cluster URL; throws an Error saying what was expected and what came. */
export function parseRedisClusterUrl(url: string): RedisClusterTarget {
  const expected = 'redis+cluster://[user:password@]host:port,host:port,… (or rediss+cluster:// for TLS)';
  const match = SCHEME.exec(url);
  if (!match) throw new Error(`expected a Redis Cluster URL like ${expected}, got ${JSON.stringify(url)}`);
  let rest = (match[2] ?? '').replace(/\/$/, '');
  const target: RedisClusterTarget = { nodes: [], tls: match[1] === 'rediss' };
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const credentials = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = credentials.indexOf(':');
    const username = decodeURIComponent(colon >= 0 ? credentials.slice(0, colon) : credentials);
    const password = colon >= 0 ? decodeURIComponent(credentials.slice(colon + 1)) : undefined;
    if (username !== '') target.username = username;
    if (password !== undefined && password !== '') target.password = password;
  }
  for (const node of rest.split(',')) {
    const found = NODE.exec(node.trim());
    const port = Number(found?.[2]);
    if (!found || port < 1 || port > 65_535) {
      throw new Error(`expected a Redis Cluster URL like ${expected}: ${JSON.stringify(node)} is not host:port`);
    }
    target.nodes.push({ host: found[1]!.replace(/^\[|\]$/g, ''), port });
  }
  return target;
}

/** The options every node connection needs for `target`: its credentials and TLS. */
export function clusterNodeOptions(target: RedisClusterTarget): RedisOptions {
  return {
    ...(target.username === undefined ? {} : { username: target.username }),
    ...(target.password === undefined ? {} : { password: target.password }),
    ...(target.tls ? { tls: {} } : {}),
  };
}
