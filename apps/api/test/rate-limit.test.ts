/**
 * Rate limits per API key: over the limit 429 `rate_limited` with Retry-After; keys and IPs have separate
 * budgets; and two API processes on one private redis-server share each key's budget.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryEngine } from '@taskpulse/engine';
import { freePort, startRedisServer, startTsProcess, type ManagedProcess, type RedisServer } from '@taskpulse/testkit';
import { build } from '../src/build';
import { JWT_AUTH, JWT_ENV, KEYS } from './auth-helpers';

const main = new URL('../src/main.ts', import.meta.url).pathname;

describe('rate limits in one process (memory engine)', () => {
  it('counts each key and each anonymous IP apart; 429 with Retry-After over the limit', async () => {
    const engine = createMemoryEngine({ prefix: 'rl' });
    const app = await build({ engine, auth: JWT_AUTH, rateLimitPerMinute: 3 });
    try {
      const publish = { 'x-api-key': KEYS.publish };
      const codes: number[] = [];
      for (let i = 0; i < 4; i += 1) {
        codes.push((await app.inject({ method: 'POST', url: `/api/v1/tasks/r${i}/start`, headers: publish, payload: {} })).statusCode);
      }
      expect(codes).toEqual([201, 201, 201, 429]);
      const limited = await app.inject({ method: 'POST', url: '/api/v1/tasks/r9/start', headers: publish, payload: {} });
      expect(limited.statusCode).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect(limited.json()).toEqual({ error: { code: 'rate_limited', message: expect.stringMatching(/^too many requests for key publish-key: at most 3 a minute; retry in \d+ s$/) } });
      // Another key and an anonymous caller have budgets of their own; probes are never limited.
      expect((await app.inject({ method: 'GET', url: '/api/v1/progress/stats', headers: { 'x-api-key': KEYS.admin } })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/api/v1/progress/r0' })).statusCode).toBe(401);
      for (let i = 0; i < 5; i += 1) expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await app.close();
      await engine.close();
    }
  });

  it('is off by default (insecure mode, npm start)', async () => {
    const app = await build({ engine: createMemoryEngine({ prefix: 'rl2' }) });
    const codes = new Set<number>();
    for (let i = 0; i < 50; i += 1) codes.add((await app.inject({ method: 'POST', url: `/api/v1/tasks/o${i}/start`, payload: {} })).statusCode);
    expect([...codes]).toEqual([201]);
    await app.close();
  });
});

describe('rate limits across two API processes on one Redis', () => {
  let redis: RedisServer | undefined;
  const processes: ManagedProcess[] = [];

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await redis?.stop();
  });

  it('shares one key budget between the replicas', async () => {
    redis = await startRedisServer();
    const prefix = `rl${randomUUID().slice(0, 8)}`;
    const ports = [await freePort(), await freePort()];
    for (const port of ports) {
      processes.push(
        startTsProcess(main, {
          ...JWT_ENV,
          REDIS_URL: redis.url,
          KEY_PREFIX: prefix,
          PORT: String(port),
          HOST: '127.0.0.1',
          LOG_LEVEL: 'warn',
          API_RATE_LIMIT_PER_MINUTE: '10',
        }),
      );
    }
    await Promise.all(processes.map((p) => p.waitForOutput(/api listening on/, 30_000)));
    const statuses: number[] = [];
    const retryAfter: (string | null)[] = [];
    // Alternate between the replicas: 14 calls against a budget of 10 for the key.
    for (let i = 0; i < 14; i += 1) {
      const res = await fetch(`http://127.0.0.1:${ports[i % 2]}/api/v1/tasks/x${i}/start`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': KEYS.publish },
        body: '{}',
      });
      statuses.push(res.status);
      if (res.status === 429) retryAfter.push(res.headers.get('retry-after'));
    }
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(statuses.slice(10)).toEqual([429, 429, 429, 429]);
    for (const value of retryAfter) expect(Number(value)).toBeGreaterThan(0);
    // The read key still has its whole budget on either replica.
    const read = await fetch(`http://127.0.0.1:${ports[1]}/api/v1/progress/x0`, { headers: { 'x-api-key': KEYS.read } });
    expect(read.status).toBe(200);
  });
});
