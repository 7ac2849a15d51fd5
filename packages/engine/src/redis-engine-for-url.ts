/** One entry for every process: a `redis://` URL gives the single-Redis engine, a `redis+cluster://` URL the cluster engine. */
import { createRedisClusterEngine, type RedisClusterEngine } from './redis-cluster-engine';
import { isRedisClusterUrl } from './redis-cluster-url';
import { createRedisEngine, type RedisEngine, type RedisEngineOptions } from './redis-engine';

/** Options both Redis engines take. */
export type RedisEngineForUrlOptions = Pick<RedisEngineOptions, 'prefix' | 'logger' | 'now' | 'connectionName' | 'redisOptions' | 'healthCheckMs' | 'metricsRegistry'>;

/** The Redis engine for `url`: RedisClusterEngine for `redis+cluster://` / `rediss+cluster://`, else RedisEngine. */
export function createRedisEngineForUrl(url: string, options: RedisEngineForUrlOptions = {}): RedisEngine | RedisClusterEngine {
  return isRedisClusterUrl(url) ? createRedisClusterEngine({ ...options, url }) : createRedisEngine({ ...options, url });
}
