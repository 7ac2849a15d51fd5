/**
 * A gateway on a private redis-server of its own (outage and epoch tests stop, restart or flush that
 * Redis), a separate publisher engine on it, and clients subscribed to the given tasks. Register
 * `stopPrivateRedis` in afterEach, after closing clients and gateways.
 */
import { startRedisServer, type RedisServer, connectClient, type TestClient } from '@taskpulse/testkit';
import { uniquePrefix, testLogger, closeWithEngines } from '@taskpulse/testkit/engines';
import { createRedisEngine, type RedisEngine } from '@taskpulse/engine';
import { startGateway, type RunningGateway } from './gateways';
import { publish } from './engines';

export interface PrivateRedisGateway {
  server: RedisServer;
  gateway: RunningGateway;
  publisher: RedisEngine;
  clients: TestClient[];
}

const servers: RedisServer[] = [];

/** Stops every redis-server started here. */
export async function stopPrivateRedis(): Promise<void> {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
}

/** A Redis engine on `server` with a fast health check (a stall shows within 200 ms). */
export async function engineOn(server: RedisServer, prefix: string): Promise<RedisEngine> {
  const engine = closeWithEngines(createRedisEngine({ url: server.url, prefix, logger: testLogger, healthCheckMs: 200 }));
  await engine.ready();
  return engine;
}

/** Starts Redis (with `serverArgs`), a gateway and a publisher, starts each task, and subscribes `clientCount` clients to all of them. */
export async function privateRedisGateway(tasks: string[], clientCount: number, serverArgs: string[] = []): Promise<PrivateRedisGateway> {
  const server = await startRedisServer(serverArgs);
  servers.push(server);
  const prefix = uniquePrefix();
  const gateway = await startGateway({ engine: await engineOn(server, prefix) });
  const publisher = await engineOn(server, prefix);
  for (const taskId of tasks) await publish(publisher, { kind: 'start', taskId });
  const clients: TestClient[] = [];
  for (let i = 0; i < clientCount; i++) {
    const client = await connectClient(gateway.wsUrl(`user_id=u${i}`));
    for (const taskId of tasks) client.send({ action: 'subscribe', task_id: taskId, request_id: taskId });
    for (const taskId of tasks) await client.next((f) => f.type === 'ack' && f.request_id === taskId);
    clients.push(client);
  }
  return { server, gateway, publisher, clients };
}
