/**
 * The two engines every route test runs against: memory, and Redis on the run's private redis-server,
 * each with a random key prefix. `open` returns the engine and a close function for afterEach.
 */
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { createMemoryEngine, createRedisEngine, type Engine } from '@taskpulse/engine';
import { pino } from 'pino';

export const silentLogger = pino({ level: 'silent' });

export interface EngineCase {
  name: 'memory' | 'redis';
  open(): Promise<Engine>;
}

/** A fresh key prefix, so tests sharing one Redis never see each other's keys. */
export function randomPrefix(): string {
  return `t${randomUUID().slice(0, 8)}`;
}

export const ENGINE_CASES: EngineCase[] = [
  { name: 'memory', open: async () => createMemoryEngine({ prefix: randomPrefix() }) },
  {
    name: 'redis',
    async open() {
      const engine = createRedisEngine({ url: inject('redisUrl'), prefix: randomPrefix(), logger: silentLogger });
      await engine.ready();
      return engine;
    },
  },
];
