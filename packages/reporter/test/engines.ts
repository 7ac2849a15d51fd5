/** The engines the reporter tests run on (memory, and Redis on the test Redis), with small helpers. */
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { createMemoryEngine, createRedisEngine, type Engine } from '@taskpulse/engine';

export interface EngineFactory {
  name: 'memory' | 'redis';
  /** A fresh engine on `prefix`. */
  create(prefix: string): Engine;
}

/**
 * Two engines as two API replicas would hold them: two Redis engines on one prefix (shared through Redis),
 * or the one memory engine twice (memory state lives in one process).
 */
export function replicaEngines(factory: EngineFactory, prefix: string): [Engine, Engine] {
  const first = factory.create(prefix);
  return [first, factory.name === 'memory' ? first : factory.create(prefix)];
}

export const ENGINES: EngineFactory[] = [
  { name: 'memory', create: (prefix) => createMemoryEngine({ prefix }) },
  { name: 'redis', create: (prefix) => createRedisEngine({ url: inject('redisUrl'), prefix }) },
];

/** A random key prefix, so tests never see each other's keys. */
export function randomPrefix(): string {
  return `t${randomUUID().slice(0, 8)}`;
}

/** Subscribes to a channel and collects the raw frames it receives. */
export async function watch(engine: Engine, channel: string): Promise<Buffer[]> {
  const frames: Buffer[] = [];
  await engine.subscribe(channel, (_channel, frame) => frames.push(frame));
  return frames;
}

/** The task's history, oldest first, parsed. */
export async function historyOf(engine: Engine, taskId: string): Promise<any[]> {
  const page = await engine.history(taskId, 100);
  return page ? page.frames.map((frame) => JSON.parse(frame.toString())).reverse() : [];
}
