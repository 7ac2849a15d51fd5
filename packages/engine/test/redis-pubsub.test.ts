/** The Redis engine's subscriber: real SUBSCRIBE/UNSUBSCRIBE counts, races, reconnects and failures. */
import { taskChannel } from '@taskpulse/protocol';
import { freePort, waitFor } from '@taskpulse/testkit';
import { uniquePrefix, testLogger, closeEnginesAfterEach, openRedisEngine, rawRedisClient } from '@taskpulse/testkit/engines';
import { describe, expect, it } from 'vitest';
import { createRedisEngine, EngineUnavailableError, type ChannelListener } from '../src/index';
import { progressEvent, published, randomTaskId, recorder } from './engine-test-helpers';

closeEnginesAfterEach();

async function numsub(channel: string): Promise<number> {
  const [, count] = (await rawRedisClient().pubsub('NUMSUB', channel)) as [string, number];
  return Number(count);
}

describe('redis engine subscriptions', () => {
  it('SUBSCRIBEs on the first registration and UNSUBSCRIBEs on the last', async () => {
    const prefix = uniquePrefix();
    const engine = await openRedisEngine(prefix);
    const channel = taskChannel(prefix, randomTaskId());
    const [a, b] = [recorder(), recorder()];
    expect(await numsub(channel)).toBe(0);
    await engine.subscribe(channel, a.listener);
    expect(await numsub(channel)).toBe(1);
    await engine.subscribe(channel, a.listener);
    await engine.subscribe(channel, b.listener);
    expect(await numsub(channel)).toBe(1);
    await engine.unsubscribe(channel, a.listener);
    await engine.unsubscribe(channel, b.listener);
    expect(await numsub(channel)).toBe(1);
    await engine.unsubscribe(channel, a.listener);
    expect(await numsub(channel)).toBe(0);
    await engine.unsubscribe(channel, a.listener); // not registered any more: nothing happens
    expect(await numsub(channel)).toBe(0);
  });

  it('resolves every subscribe to a channel only once its SUBSCRIBE is confirmed', async () => {
    const prefix = uniquePrefix();
    const engine = await openRedisEngine(prefix);
    const channel = taskChannel(prefix, randomTaskId());
    const [a, b] = [recorder(), recorder()];
    const first = engine.subscribe(channel, a.listener);
    await engine.subscribe(channel, b.listener); // not the first registration, yet it waits for the confirmation
    expect(await numsub(channel)).toBe(1);
    await first;
  });

  it('stays subscribed when the last unsubscribe races a new subscribe', async () => {
    const prefix = uniquePrefix();
    const engine = await openRedisEngine(prefix);
    const taskId = randomTaskId();
    const channel = taskChannel(prefix, taskId);
    const [a, b] = [recorder(), recorder()];
    // not awaited in between: SUBSCRIBE in flight, then the last unsubscribe, then a new subscribe
    await Promise.all([engine.subscribe(channel, a.listener), engine.unsubscribe(channel, a.listener), engine.subscribe(channel, b.listener)]);
    expect(await numsub(channel)).toBe(1);
    await engine.publish(progressEvent(taskId, 1));
    await b.waitForCount(1);
    // and the reverse: subscribe then unsubscribe of the only listener, both in flight
    await Promise.all([engine.unsubscribe(channel, b.listener), engine.subscribe(channel, a.listener), engine.unsubscribe(channel, a.listener)]);
    expect(await numsub(channel)).toBe(0);
  });

  it('settles every channel to "subscribed exactly while registered" under random interleavings', async () => {
    const prefix = uniquePrefix();
    const engine = await openRedisEngine(prefix);
    const channels = [1, 2, 3].map((i) => taskChannel(prefix, `race-${i}`));
    const listeners: ChannelListener[] = [() => {}, () => {}, () => {}];
    const counts = new Map<string, number>();
    const pending: Promise<void>[] = [];
    let seed = 7;
    const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let i = 0; i < 300; i++) {
      const channel = channels[random(3)]!;
      const listenerIndex = random(3);
      const key = `${channel}|${listenerIndex}`;
      if (random(2) === 0) {
        counts.set(key, (counts.get(key) ?? 0) + 1);
        pending.push(engine.subscribe(channel, listeners[listenerIndex]!));
      } else {
        if (counts.get(key)) counts.set(key, counts.get(key)! - 1);
        pending.push(engine.unsubscribe(channel, listeners[listenerIndex]!));
      }
      if (random(10) === 0) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
    for (const channel of channels) {
      const registered = [0, 1, 2].some((l) => (counts.get(`${channel}|${l}`) ?? 0) > 0);
      expect(await numsub(channel), channel).toBe(registered ? 1 : 0);
    }
  });

  it('resubscribes after the subscriber connection is killed; isReady is false meanwhile', async () => {
    const prefix = uniquePrefix();
    const name = `sub-test-${prefix}`;
    const engine = await openRedisEngine(prefix, { connectionName: name });
    const taskId = randomTaskId();
    const channel = taskChannel(prefix, taskId);
    const rec = recorder();
    await engine.subscribe(channel, rec.listener);
    expect(engine.isReady()).toBe(true);
    const admin = rawRedisClient();
    const clients = (await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string;
    const line = clients.split('\n').find((l) => l.includes(` name=${name}:sub `));
    expect(line, clients).toBeDefined();
    const id = /^id=(\d+)/.exec(line!)![1]!;
    // kill it and hold every client for a moment, so the reconnect cannot complete before we look
    await admin.multi().client('KILL', 'ID', id).call('CLIENT', 'PAUSE', '1000', 'ALL').exec();
    await waitFor('isReady() to turn false', () => !engine.isReady(), 900, 5);
    await engine.ready();
    expect(await numsub(channel)).toBe(1);
    await engine.publish(progressEvent(taskId, 1));
    await rec.waitForCount(1);
  });
});

describe('redis engine failures', () => {
  it('turns an unreachable Redis into EngineUnavailableError with the cause', async () => {
    const port = await freePort();
    const engine = createRedisEngine({
      url: `redis://127.0.0.1:${port}`,
      prefix: uniquePrefix(),
      logger: testLogger,
      redisOptions: { enableOfflineQueue: false, retryStrategy: () => 1000 },
    });
    try {
      expect(engine.isReady()).toBe(false);
      const failure = engine.publish(progressEvent(randomTaskId(), 1));
      await expect(failure).rejects.toBeInstanceOf(EngineUnavailableError);
      await expect(failure).rejects.toMatchObject({ code: 'unavailable', cause: expect.any(Error) });
      await expect(engine.latest('x')).rejects.toBeInstanceOf(EngineUnavailableError);
      await expect(engine.history('x', 1)).rejects.toBeInstanceOf(EngineUnavailableError);
      await expect(engine.stats()).rejects.toBeInstanceOf(EngineUnavailableError);
      await expect(engine.broadcast('c', 'x')).rejects.toBeInstanceOf(EngineUnavailableError);
      await expect(engine.connectionStats()).rejects.toBeInstanceOf(EngineUnavailableError);
      await expect(engine.subscribe('c', () => {})).rejects.toBeInstanceOf(EngineUnavailableError);
      await expect(engine.ready(200)).rejects.toBeInstanceOf(EngineUnavailableError);
    } finally {
      await engine.close();
    }
  });

  it('refuses to subscribe after close', async () => {
    const engine = await openRedisEngine(uniquePrefix());
    const result = published(await engine.publish(progressEvent(randomTaskId(), 1)));
    expect(result.offset).toBe(1);
    await engine.close();
    expect(engine.isReady()).toBe(false);
    await expect(engine.subscribe('c', () => {})).rejects.toBeInstanceOf(EngineUnavailableError);
  });
});
