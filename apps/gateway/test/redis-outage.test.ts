/**
 * Redis outage and stall (issue 7 items 2 and 3), on a private redis-server per test: the subscriber
 * connection killed, Redis killed and restarted with its append-only file, restarted empty, and stopped
 * with SIGSTOP. Sockets that stay connected see a contiguous sequence ending with the terminal status,
 * or are told with a `resync` ack; /readyz is 503 meanwhile; publishers get EngineUnavailableError.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { waitFor, type Frame, type TestClient } from '@taskpulse/testkit';
import { EngineUnavailableError, type RedisEngine } from '@taskpulse/engine';
import { closeAll, type RunningGateway } from './support/gateways';
import { progress, publish } from './support/engines';
import { privateRedisGateway, stopPrivateRedis, type PrivateRedisGateway } from './support/private-redis-gateway';

afterEach(async () => {
  await closeAll();
  await stopPrivateRedis();
});

const TASKS = ['task-a', 'task-b'];

/** A persistent Redis (every write synced), a gateway, a separate publisher engine, and three clients on both tasks. */
function setup(): Promise<PrivateRedisGateway> {
  return privateRedisGateway(TASKS, 3, ['--appendonly', 'yes', '--appendfsync', 'always']);
}

/** Publishes `count` progress events per task, retrying a publish the outage refused; `during(i)` runs before event i. */
async function publishThrough(publisher: RedisEngine, count: number, during: (i: number) => Promise<void>): Promise<number> {
  let refused = 0;
  for (let i = 1; i <= count; i++) {
    await during(i);
    for (const taskId of TASKS) {
      for (let attempt = 0; ; attempt++) {
        try {
          await publish(publisher, progress(taskId, i));
          break;
        } catch (error) {
          expect(error).toBeInstanceOf(EngineUnavailableError);
          refused += 1;
          if (attempt > 100) throw error;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    }
    if (i % 10 === 0) await new Promise((r) => setTimeout(r, 2));
  }
  for (const taskId of TASKS) await publish(publisher, { kind: 'complete', taskId });
  return refused;
}

/** Every client ends each task with `completed`, and its event offsets after the ack run on without a gap or a duplicate. */
async function expectContiguous(clients: TestClient[]): Promise<void> {
  for (const client of clients) {
    for (const taskId of TASKS) {
      const isEnd = (f: Frame) => f.type === 'status' && f.payload.status === 'completed';
      await waitFor(`${taskId} completed on a client`, () => client.taskFrames(taskId).some(isEnd), 15_000);
      const frames = client.taskFrames(taskId);
      const ackAt = frames.findIndex((f) => f.type === 'ack' && f.action === 'subscribe');
      const offsets = frames.slice(ackAt + 1).filter((f) => f.type !== 'ack').map((f) => f.offset);
      const first = frames[ackAt]!.payload.offset + 1;
      expect(offsets).toEqual(Array.from({ length: offsets.length }, (_, k) => first + k));
      expect(frames.at(-1)).toMatchObject({ type: 'status', payload: { status: 'completed' } });
    }
  }
}

async function readyz(gateway: RunningGateway): Promise<number> {
  return (await fetch(gateway.httpUrl('/readyz'))).status;
}

async function repairs(gateway: RunningGateway, result: string): Promise<number> {
  const metric = await gateway.gateway.metrics.registry.getSingleMetric('taskpulse_gateway_channel_repairs_total')?.get();
  return metric?.values.find((v) => v.labels.result === result)?.value ?? 0;
}

describe('redis outage', () => {
  it('repairs the topics after the subscriber connection is killed mid-stream', async () => {
    const { server, gateway, publisher, clients } = await setup();
    const admin = new Redis(server.url);
    try {
      await publishThrough(publisher, 200, async (i) => {
        // Two kills, each followed by 20 events while the subscriber reconnects; then publishing waits for the
        // repair, so the hole stays well inside the 100 frames history keeps (a longer one is a resync, tested below).
        if (i === 60 || i === 140) await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
        if (i === 80 || i === 160) {
          const expected = (i === 80 ? 1 : 2) * TASKS.length;
          await waitFor('the repair after the kill', async () => (await repairs(gateway, 'recovered')) >= expected, 10_000, 20);
        }
      });
    } finally {
      admin.disconnect();
    }
    await expectContiguous(clients);
    expect(await repairs(gateway, 'recovered')).toBeGreaterThanOrEqual(2 * TASKS.length);
  });

  it('keeps sockets contiguous across a Redis kill -9 and restart with its append-only file; readyz 503 and typed publish errors meanwhile', async () => {
    const { server, gateway, publisher, clients } = await setup();
    expect(await readyz(gateway)).toBe(200);
    const refused = await publishThrough(publisher, 150, async (i) => {
      if (i !== 70) return;
      server.process.kill('SIGKILL');
      await waitFor('readyz 503 while Redis is down', async () => (await readyz(gateway)) === 503, 5000, 20);
      const started = Date.now();
      await expect(publish(publisher, progress('task-a', 0))).rejects.toBeInstanceOf(EngineUnavailableError);
      expect(Date.now() - started).toBeLessThan(3000);
      await server.restart();
    });
    expect(refused).toBeGreaterThanOrEqual(0);
    await waitFor('readyz 200 again', async () => (await readyz(gateway)) === 200, 10_000, 50);
    await expectContiguous(clients);
    // Connected sockets all stayed: nobody was dropped by the outage.
    expect(gateway.gateway.connectionCount()).toBe(clients.length);
  });

  it('tells sockets with a resync ack (recovered:false) when Redis comes back empty, then delivers the new epoch', async () => {
    const { server, gateway, publisher, clients } = await setup();
    await publish(publisher, progress('task-a', 1));
    const oldEpoch = (await clients[0]!.next((f) => f.type === 'progress' && f.task_id === 'task-a')).epoch;
    await server.restart({ flush: true });
    for (const client of clients) {
      const resync = await client.next((f) => f.type === 'ack' && f.action === 'resync' && f.task_id === 'task-a', 10_000);
      expect(resync.payload).toEqual({ recovered: false, offset: 0 });
    }
    await waitFor('the publisher back', async () => publisher.isReady(), 10_000, 50);
    const { epoch } = await publish(publisher, { kind: 'start', taskId: 'task-a' });
    expect(epoch).not.toBe(oldEpoch);
    for (const client of clients) {
      const frame = await client.next((f) => f.type === 'status' && f.task_id === 'task-a' && f.epoch === epoch);
      expect(frame.offset).toBe(1);
    }
    expect(await repairs(gateway, 'resync')).toBeGreaterThanOrEqual(TASKS.length);
  });

  it('answers readyz 503 during a SIGSTOP stall, fails publishes with EngineUnavailableError, and loses nothing', async () => {
    const { server, gateway, publisher, clients } = await setup();
    await publishThrough(publisher, 40, async (i) => {
      if (i !== 20) return;
      server.process.kill('SIGSTOP');
      try {
        await waitFor('readyz 503 during the stall', async () => (await readyz(gateway)) === 503, 5000, 50);
        const started = Date.now();
        await expect(publish(publisher, progress('task-b', 0))).rejects.toBeInstanceOf(EngineUnavailableError);
        expect(Date.now() - started).toBeLessThan(4000);
      } finally {
        server.process.kill('SIGCONT');
      }
      await waitFor('readyz 200 after the stall', async () => (await readyz(gateway)) === 200, 10_000, 50);
    });
    await expectContiguous(clients);
  });
});
