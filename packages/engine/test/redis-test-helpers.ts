/** Redis engines and raw clients for tests, on the run's private redis-server, closed after each test. */
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, inject } from 'vitest';
import { createRedisEngine, type RedisEngine, type RedisEngineOptions } from '../src/index';

/** Connection errors during deliberate kills are expected; anything at error level still shows. */
export const testLogger = pino({ level: 'error' });

const opened: Array<{ close(): Promise<unknown> }> = [];

/** Registers the afterEach that closes every engine and client the test opened. */
export function closeAfterEach(): void {
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((item) => item.close()));
  });
}

export function redisUrl(): string {
  return inject('redisUrl');
}

/** A Redis engine on the test Redis, ready before it is returned. */
export async function redisEngine(prefix: string, options: Partial<RedisEngineOptions> = {}): Promise<RedisEngine> {
  const engine = createRedisEngine({ url: redisUrl(), prefix, logger: testLogger, ...options });
  opened.push(engine);
  await engine.ready();
  return engine;
}

/** A plain ioredis client, to look at what the engine wrote without going through it. */
export function rawClient(url = redisUrl()): Redis {
  const client = new Redis(url);
  opened.push({ close: () => client.quit().catch(() => client.disconnect()) });
  return client;
}
