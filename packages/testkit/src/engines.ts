/**
 * The one engine matrix for tests (`@taskpulse/testkit/engines`): every backend a suite runs on, each
 * engine on a key prefix of its own, every engine and raw client closed by `closeEngines`. Redis is the
 * run's Redis (REDIS_URL when set, else the private redis-server of test/global-setup.ts); Redis Cluster is
 * the run's cluster of 3 masters and 3 replicas (REDIS_CLUSTER_URL, else the private one the setup starts).
 *
 * A new backend (Redis Cluster, …) is one more entry in ENGINE_MATRIX: the engine contract suite and every
 * `describe.each(ENGINE_MATRIX)` suite of the reporter, the API and the gateway then run on it.
 *
 * Kept apart from the package root: this module imports vitest and @taskpulse/engine, the root imports
 * neither (bench and engine-free tests use it). The engine's own tests may import this module; engine
 * never imports testkit from its sources, so the packages form no cycle.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, inject } from 'vitest';
import {
  createMemoryEngine,
  createRedisClusterEngine,
  createRedisEngine,
  type Engine,
  type RedisClusterEngine,
  type RedisClusterEngineOptions,
  type RedisEngine,
  type RedisEngineOptions,
} from '@taskpulse/engine';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's Redis: REDIS_URL, or the private redis-server test/global-setup.ts started. */
    redisUrl: string;
    /** The run's Redis Cluster as `redis+cluster://host:port,…`: REDIS_CLUSTER_URL, or the private 3+3 cluster of the global setup. */
    redisClusterUrl: string;
  }
}

/** Silent unless TEST_LOG_LEVEL names a pino level (e.g. `TEST_LOG_LEVEL=warn npx vitest run …`). */
export const testLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** A key prefix no other test uses, so suites sharing one Redis never see each other's keys. */
export function uniquePrefix(): string {
  return `t${randomUUID().slice(0, 8)}`;
}

/** The run's Redis URL (see the file comment). */
export function testRedisUrl(): string {
  return inject('redisUrl');
}

/** One backend of the matrix. */
export interface EngineBackend {
  /** Names the backend in test titles (`describe.each(ENGINE_MATRIX)('… ($name engine)', …)`). */
  readonly name: string;
  /** True when two engines opened on one prefix share tasks, channels and sessions, as two processes on one Redis do. */
  readonly shared: boolean;
  /** A ready engine on `prefix` (default: a fresh one), closed by `closeEngines`. */
  open(prefix?: string): Promise<Engine>;
}

type Closable = { close(): Promise<unknown> };
const opened = new Set<Closable>();

/** Closes `item` with the next `closeEngines`; returns it. For engines a test builds itself (e.g. with a clock). */
export function closeWithEngines<T extends Closable>(item: T): T {
  opened.add(item);
  return item;
}

/** Closes every engine and raw client opened since the last call. Call it after whatever used them (gateways, apps). */
export async function closeEngines(): Promise<void> {
  const items = [...opened];
  opened.clear();
  await Promise.all(items.map((item) => item.close()));
}

/** Registers an afterEach that calls `closeEngines`, for suites with nothing to close before their engines. */
export function closeEnginesAfterEach(): void {
  afterEach(closeEngines);
}

/** A Redis engine on the run's Redis (or `options.url`), ready when it resolves, closed by `closeEngines`. */
export async function openRedisEngine(prefix = uniquePrefix(), options: Partial<RedisEngineOptions> = {}): Promise<RedisEngine> {
  const engine = closeWithEngines(createRedisEngine({ url: testRedisUrl(), prefix, logger: testLogger, ...options }));
  await engine.ready();
  return engine;
}

/** The run's Redis Cluster URL (see the file comment). */
export function testRedisClusterUrl(): string {
  return inject('redisClusterUrl');
}

/** A Redis Cluster engine on the run's cluster, ready when it resolves, closed by `closeEngines`. */
export async function openRedisClusterEngine(prefix = uniquePrefix(), options: Partial<RedisClusterEngineOptions> = {}): Promise<RedisClusterEngine> {
  const engine = closeWithEngines(createRedisClusterEngine({ url: testRedisClusterUrl(), prefix, logger: testLogger, ...options }));
  await engine.ready();
  return engine;
}

/** A plain ioredis client on the run's Redis, to see what an engine wrote without going through it. */
export function rawRedisClient(url = testRedisUrl()): Redis {
  const client = new Redis(url);
  closeWithEngines({ close: () => client.quit().catch(() => client.disconnect()) });
  return client;
}

const memory: EngineBackend = {
  name: 'memory',
  shared: false,
  open: async (prefix = uniquePrefix()) => closeWithEngines(createMemoryEngine({ prefix })),
};

const redis: EngineBackend = {
  name: 'redis',
  shared: true,
  open: (prefix) => openRedisEngine(prefix),
};

const redisCluster: EngineBackend = {
  name: 'redis-cluster',
  shared: true,
  open: (prefix) => openRedisClusterEngine(prefix),
};

/** Every backend, in the order suites run them. */
export const ENGINE_MATRIX: readonly EngineBackend[] = [memory, redis, redisCluster];

/** The backend called `name`; throws naming the known ones. */
export function engineBackend(name: string): EngineBackend {
  const backend = ENGINE_MATRIX.find((candidate) => candidate.name === name);
  if (!backend) throw new Error(`no engine backend "${name}" in the matrix (have ${ENGINE_MATRIX.map((b) => b.name).join(', ')})`);
  return backend;
}

/** A ready engine of the named backend on `prefix` (default: a fresh one), closed by `closeEngines`. */
export function openEngine(name: string, prefix?: string): Promise<Engine> {
  return engineBackend(name).open(prefix);
}

/**
 * Two engines as two processes would hold them on one prefix: two engines where the backend shares state
 * between instances, else the one engine twice (a memory engine's state lives in its process).
 */
export async function openReplicas(backend: EngineBackend, prefix = uniquePrefix()): Promise<[Engine, Engine]> {
  const first = await backend.open(prefix);
  return [first, backend.shared ? await backend.open(prefix) : first];
}
