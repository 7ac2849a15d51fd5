/**
 * The engine's metrics home: a registry passed to createRedisEngine gets its Redis reconnects, connection
 * errors and failed commands, on a private Redis that a test kills and restarts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { startRedisServer, waitFor, type RedisServer } from '@taskpulse/testkit';
import { createRedisEngine, createRedisEngineMetrics, type RedisEngine } from '../src/index';

let redis: RedisServer;
let engine: RedisEngine | undefined;

beforeAll(async () => {
  redis = await startRedisServer();
});

afterAll(async () => {
  await engine?.close();
  await redis?.stop();
});

async function value(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = await registry.getSingleMetric(name)!.get();
  const found = metric.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return found?.value ?? 0;
}

describe('redis engine metrics', () => {
  it('counts reconnects, connection errors and failed commands by connection and command', async () => {
    const registry = new Registry();
    engine = createRedisEngine({ url: redis.url, prefix: 'metrics', metricsRegistry: registry, healthCheckMs: 100, logger: { warn() {}, error() {} } });
    await engine.ready();
    // A healthy start counts nothing (the handshake's CLIENT SETINFO, refused by older Redis, is not a failure).
    await engine.broadcast('metrics:channel', 'x');
    expect(await value(registry, 'taskpulse_engine_redis_command_errors_total', { connection: 'commands' })).toBe(0);
    expect(await value(registry, 'taskpulse_engine_redis_reconnects_total', { connection: 'commands' })).toBe(0);

    const restarted = redis.restart();
    await waitFor('a reconnect of both connections', async () =>
      (await value(registry, 'taskpulse_engine_redis_reconnects_total', { connection: 'commands' })) > 0 &&
      (await value(registry, 'taskpulse_engine_redis_reconnects_total', { connection: 'subscriber' })) > 0,
    );
    await restarted;
    await engine.ready(10_000);

    // A command that fails: a publish to a Redis that is not there, with no retries.
    const failing = createRedisEngine({ url: 'redis://127.0.0.1:1', metricsRegistry: registry, redisOptions: { maxRetriesPerRequest: 0, retryStrategy: () => null }, logger: { warn() {}, error() {} } });
    await expect(failing.broadcast('metrics:channel', 'x')).rejects.toThrow();
    await failing.close();
    expect(await value(registry, 'taskpulse_engine_redis_command_errors_total', { connection: 'commands', command: 'publish' })).toBe(1);
    expect(await value(registry, 'taskpulse_engine_redis_connection_errors_total', { connection: 'commands' })).toBeGreaterThan(0);
  });

  it('shares one set of counters between engines on one registry', () => {
    const registry = new Registry();
    expect(createRedisEngineMetrics(registry).reconnects).toBe(createRedisEngineMetrics(registry).reconnects);
  });
});
