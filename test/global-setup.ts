/**
 * Gives every test file a Redis of its own run: REDIS_URL when set, else a private redis-server on a free
 * port (installed with apt-get when missing and we are root), stopped when the run ends.
 */
import type { TestProject } from 'vitest/node';
import type {} from '@taskpulse/testkit/engines'; // declares the provided `redisUrl`
import { startRedisServer } from '@taskpulse/testkit';

export default async function setup(project: TestProject) {
  if (process.env.REDIS_URL) {
    project.provide('redisUrl', process.env.REDIS_URL);
    return;
  }
  const server = await startRedisServer();
  project.provide('redisUrl', server.url);
  return () => server.stop();
}
