/**
 * `/api/v1/websocket/stats` follows connects and closes within a second (node-heartbeat.ts reports on
 * change, coalesced), with the periodic report at its default 5 s: on the memory engine with the gateway
 * and the API sharing one engine in one process (as `npm start` runs them), and on Redis with each on an
 * engine of its own.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { createMemoryEngine, createRedisClusterEngine, createRedisEngine, type Engine } from '@taskpulse/engine';
import { freePort, waitFor, connectClient, type TestClient } from '@taskpulse/testkit';
import { uniquePrefix } from '@taskpulse/testkit/engines';
import { createGateway, type Gateway } from '../../apps/gateway/src/index';
import { build } from '../../apps/api/src/build';

const logger = pino({ level: 'silent' });
let cleanup: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function redisEngine(prefix: string): Promise<Engine> {
  const engine = createRedisEngine({ url: inject('redisUrl'), prefix, logger });
  await engine.ready();
  return engine;
}

const CASES: Array<{ name: string; engines(): Promise<{ gatewayEngine: Engine; apiEngine: Engine }> }> = [
  {
    name: 'memory engine, one process',
    async engines() {
      const engine = createMemoryEngine({ prefix: uniquePrefix() });
      return { gatewayEngine: engine, apiEngine: engine };
    },
  },
  {
    name: 'redis engine',
    async engines() {
      const prefix = 't' + randomUUID().slice(0, 8);
      return { gatewayEngine: await redisEngine(prefix), apiEngine: await redisEngine(prefix) };
    },
  },
  {
    name: 'redis cluster engine',
    async engines() {
      const prefix = 't' + randomUUID().slice(0, 8);
      const open = async () => {
        const engine = createRedisClusterEngine({ url: inject('redisClusterUrl'), prefix, logger });
        await engine.ready();
        return engine;
      };
      return { gatewayEngine: await open(), apiEngine: await open() };
    },
  },
];

describe.each(CASES)('websocket stats freshness ($name)', (testCase) => {
  it('shows three connections within 1 s of their connect, and none within 1 s of their close', async () => {
    const { gatewayEngine, apiEngine } = await testCase.engines();
    cleanup.push(() => gatewayEngine.close());
    if (apiEngine !== gatewayEngine) cleanup.push(() => apiEngine.close());
    const api: FastifyInstance = await build({ engine: apiEngine });
    cleanup.push(() => api.close());
    const gateway: Gateway = createGateway({ engine: gatewayEngine, logger, heartbeatIntervalMs: 5000, drainGraceMs: 50 });
    cleanup.push(() => gateway.close());
    const port = await gateway.listen(await freePort(), '127.0.0.1');
    const stats = async () => (await api.inject('/api/v1/websocket/stats')).json() as { total_clients: number; by_user: Record<string, number> };
    // The first (periodic) report is written at listen; let it land so the test sees only reports on change.
    await waitFor('the first report', async () => (await stats()).total_clients === 0 && (await gatewayEngine.connectionStats()).nodes === 1);

    const clients: TestClient[] = [];
    for (let i = 0; i < 3; i++) clients.push(await connectClient(`ws://127.0.0.1:${port}/api/v1/ws?user_id=u${i}`));
    cleanup.push(() => Promise.all(clients.map((c) => c.close())));
    const connectedAt = Date.now();
    await waitFor('three connections in the stats', async () => (await stats()).total_clients === 3, 3000, 20);
    expect(Date.now() - connectedAt).toBeLessThan(1000);
    expect((await stats()).by_user).toEqual({ u0: 1, u1: 1, u2: 1 });

    await Promise.all(clients.map((c) => c.close()));
    const closedAt = Date.now();
    await waitFor('no connection in the stats', async () => (await stats()).total_clients === 0, 3000, 20);
    expect(Date.now() - closedAt).toBeLessThan(1000);
  });
});
