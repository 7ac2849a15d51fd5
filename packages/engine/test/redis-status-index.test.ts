/**
 * The stats index never holds up a publish: on a private Redis, the engine's user is denied the `{idx}`
 * keys by an ACL (a real refusal from Redis, as when the index's shard is down); publishes still answer
 * at once, the index writes stay queued, are retried with backoff, logged and counted, and once the keys
 * are allowed again the queue drains by itself and the stats are right.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { Redis } from 'ioredis';
import { startRedisServer, waitFor, type RedisServer } from '@taskpulse/testkit';
import { createRedisEngine, type RedisEngine } from '../src/index';
import { completeEvent, randomTaskId, startEvent } from './engine-test-helpers';

let redis: RedisServer;
let admin: Redis;
const engines: RedisEngine[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  admin = new Redis(redis.url);
});

afterAll(async () => {
  await Promise.all(engines.map((e) => e.close()));
  admin?.disconnect();
  await redis?.stop();
});

async function counter(registry: Registry, name: string): Promise<number> {
  return (await registry.getSingleMetric(name)!.get()).values[0]?.value ?? 0;
}

describe('redis stats index', () => {
  it('queues its writes while the index keys are refused, retries them, and the stats come right', async () => {
    const prefix = `ix${randomUUID().slice(0, 8)}`;
    const user = `idx-denied-${prefix}`;
    // task keys and channels allowed, the `{idx}` keys not
    await admin.call('ACL', 'SETUSER', user, 'on', '>pw', 'resetkeys', `~${prefix}:{t:*`, 'resetchannels', '&*', '+@all');
    const registry = new Registry();
    const warnings: object[] = [];
    const url = redis.url.replace('redis://', `redis://${user}:pw@`);
    const engine = createRedisEngine({ url, prefix, metricsRegistry: registry, logger: { warn: (context: object) => void warnings.push(context), error() {} } });
    engines.push(engine);
    await engine.ready();

    const [a, b] = [randomTaskId(), randomTaskId()];
    const startedAt = Date.now();
    expect((await engine.publish(startEvent(a))).status).toBe('published');
    expect((await engine.publish(completeEvent(b))).status).toBe('published');
    const publishMs = Date.now() - startedAt;
    await waitFor('failed index writes counted', async () => (await counter(registry, 'taskpulse_engine_redis_status_index_write_failures_total')) >= 2, 5000, 20);
    expect(engine.roles.tasks.queuedIndexWrites(), 'both tasks wait for their index write').toBe(2);
    expect((warnings[0] as { err: Error }).err.message, 'the warning names the failure').toMatch(/index the status of \d+ tasks: .*(NOPERM|No permissions)/i);
    await expect(engine.stats(), 'the index itself is refused').rejects.toThrow(/NOPERM|No permissions/i);
    expect(publishMs, 'publishes do not wait for the index').toBeLessThan(500);

    await admin.call('ACL', 'SETUSER', user, `~${prefix}:{idx}:*`);
    // the retry comes by itself (backoff from 100 ms, at most 5 s), no publish needed
    await waitFor('the queued index writes written', () => engine.roles.tasks.queuedIndexWrites() === 0, 8000, 20);
    expect(await engine.stats()).toEqual({ tasks: 2, by_status: { pending: 0, running: 1, completed: 1, failed: 0, cancelled: 0 } });
    expect(await counter(registry, 'taskpulse_engine_redis_status_index_dropped_total')).toBe(0);
    await admin.call('ACL', 'DELUSER', user);
  });
});
