/**
 * Gives every test file a Redis of its own run: REDIS_URL when set, else a private redis-server on a free
 * port (installed with apt-get when missing and we are root), stopped when the run ends. Likewise a Redis
 * Cluster of 3 masters and 3 replicas: REDIS_CLUSTER_URL when set, else a private one (about 2 s to start).
 */
import type { TestProject } from 'vitest/node';
import type {} from '@taskpulse/testkit/engines'; // declares the provided `redisUrl` and `redisClusterUrl`
import { startRedisCluster, startRedisServer } from '@taskpulse/testkit';

export default async function setup(project: TestProject) {
  const stops: Array<() => Promise<void>> = [];
  if (process.env.REDIS_URL) project.provide('redisUrl', process.env.REDIS_URL);
  else {
    const server = await startRedisServer();
    project.provide('redisUrl', server.url);
    stops.push(() => server.stop());
  }
  if (process.env.REDIS_CLUSTER_URL) project.provide('redisClusterUrl', process.env.REDIS_CLUSTER_URL);
  else {
    const cluster = await startRedisCluster();
    project.provide('redisClusterUrl', cluster.url);
    stops.push(() => cluster.stop());
  }
  return async () => {
    await Promise.all(stops.map((stop) => stop()));
  };
}
