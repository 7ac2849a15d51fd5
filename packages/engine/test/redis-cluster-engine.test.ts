/**
 * The Redis engine on a Redis Cluster (3 masters, 3 replicas, started by the run's global setup) beyond
 * the contract suite (engine-contract.test.ts runs it on the matrix's `redis-cluster`): what only a cluster has: one slot per task, SPUBLISH kept on the owning shard,
 * one subscriber connection per master, and channels moved when their slot moves.
 */
import calculateSlot from 'cluster-key-slot';
import { taskChannel, userChannel } from '@taskpulse/protocol';
import { waitFor } from '@taskpulse/testkit';
import { Cluster, Redis } from 'ioredis';
import {
  closeEnginesAfterEach,
  closeWithEngines,
  openRedisClusterEngine as clusterEngine,
  testLogger,
  testRedisClusterUrl as clusterUrl,
  testRedisUrl,
  uniquePrefix as randomPrefix,
} from '@taskpulse/testkit/engines';
import { describe, expect, it } from 'vitest';
import { createRedisEngineForUrl, parseRedisClusterUrl, RedisClusterEngine, RedisEngine } from '../src/index';
import { completeEvent, offsetsOf, progressEvent, published, randomTaskId, range, recorder, startEvent } from './engine-test-helpers';

closeEnginesAfterEach();

function rawCluster(): Cluster {
  const client = new Cluster(parseRedisClusterUrl(clusterUrl()).nodes);
  closeWithEngines({ close: () => client.quit().catch(() => client.disconnect()) });
  return client;
}

/** A plain connection to the master that serves `key`'s slot now. */
async function ownerOf(cluster: Cluster, key: string): Promise<Redis> {
  await waitFor('cluster slots', () => cluster.status === 'ready' && cluster.slots.length > 0);
  const node = cluster.slots[calculateSlot(key)]![0]!;
  const [host, port] = node.split(':');
  const client = new Redis({ host, port: Number(port) });
  closeWithEngines({ close: () => client.quit().catch(() => client.disconnect()) });
  return client;
}

describe('redis cluster engine', () => {
  it('is chosen by a redis+cluster:// URL, and the URL is checked', () => {
    const engine = createRedisEngineForUrl(clusterUrl(), { prefix: randomPrefix(), logger: testLogger });
    closeWithEngines(engine);
    expect(engine).toBeInstanceOf(RedisClusterEngine);
    expect(engine.kind).toBe('redis-cluster');
    const single = createRedisEngineForUrl(testRedisUrl(), { prefix: randomPrefix(), logger: testLogger });
    closeWithEngines(single);
    expect(single).toBeInstanceOf(RedisEngine);
    expect(parseRedisClusterUrl('rediss+cluster://u%40x:p%3Aw@a.example:7000,[::1]:7001/')).toEqual({
      nodes: [
        { host: 'a.example', port: 7000 },
        { host: '::1', port: 7001 },
      ],
      username: 'u@x',
      password: 'p:w',
      tls: true,
    });
    expect(() => parseRedisClusterUrl('redis+cluster://a:7000,b')).toThrow(/"b" is not host:port/);
    expect(() => parseRedisClusterUrl('redis://a:7000')).toThrow(/expected a Redis Cluster URL/);
  });

  it('keeps every key of a task in the slot of its channel and publishes with SPUBLISH on that shard', async () => {
    const prefix = randomPrefix();
    const engine = await clusterEngine(prefix);
    const taskId = randomTaskId();
    const channel = taskChannel(prefix, taskId);
    const raw = rawCluster();
    const owner = await ownerOf(raw, channel);
    const sub = new Redis(owner.options.port!, owner.options.host!);
    closeWithEngines({ close: () => sub.quit().catch(() => sub.disconnect()) });
    const received: Buffer[] = [];
    sub.on('smessageBuffer', (_channel: Buffer, frame: Buffer) => received.push(frame));
    await sub.ssubscribe(channel);
    const frames = [
      published(await engine.publish(startEvent(taskId, 'u-1'))).frame,
      published(await engine.publish(progressEvent(taskId, 50))).frame,
      published(await engine.publish(completeEvent(taskId))).frame,
    ];
    await waitFor('3 sharded frames', () => received.length === 3);
    expect(received).toEqual(frames);
    const slot = calculateSlot(channel);
    expect(calculateSlot(`${channel}:h`)).toBe(slot);
    expect(calculateSlot(`${channel}:m`)).toBe(slot);
    expect(await owner.exists(`${channel}:h`, `${channel}:m`)).toBe(2);
    // a plain SUBSCRIBE (cluster-wide pub/sub) sees nothing: the frame never left its shard's channel space
    expect(await owner.call('PUBSUB', 'SHARDNUMSUB', channel)).toEqual([channel, 1]);
  });

  it('starts a new epoch, snapshot kept, for a task last written under another master (failover fence)', async () => {
    const prefix = randomPrefix();
    const engine = await clusterEngine(prefix);
    const taskId = randomTaskId();
    const meta = `${taskChannel(prefix, taskId)}:m`;
    const first = published(await engine.publish(startEvent(taskId, 'u-7', 'p-7')));
    published(await engine.publish(progressEvent(taskId, 10)));
    const owner = await ownerOf(rawCluster(), meta);
    const replid = (await owner.info('replication')).match(/master_replid:(\w+)/)![1];
    expect(await owner.hget(meta, '_rid')).toBe(replid);
    expect(published(await engine.publish(progressEvent(taskId, 20)))).toMatchObject({ offset: 3, epoch: first.epoch });
    // as if the task had been written by a master that has since failed over to this one
    await owner.hset(meta, '_rid', 'f'.repeat(40));
    const after = published(await engine.publish(progressEvent(taskId, 30)));
    expect(after.offset).toBe(1);
    expect(after.epoch).not.toBe(first.epoch);
    expect((await engine.history(taskId, 100))!.frames).toEqual([after.frame]);
    const state = (await engine.latest(taskId))!;
    expect(state).toMatchObject({ offset: 1, epoch: after.epoch, fields: { user_id: '"u-7"', project_id: '"p-7"', progress: '30' } });
    expect(state.frames).toEqual([after.frame]);
    expect(await owner.hget(meta, '_rid')).toBe(replid);
  });

  it('subscribes channels on the master that owns each, one connection per master, and delivers all', async () => {
    const prefix = randomPrefix();
    const engine = await clusterEngine(prefix);
    const publisher = await clusterEngine(prefix);
    const raw = rawCluster();
    await waitFor('cluster slots', () => raw.status === 'ready' && raw.slots.length > 0);
    // tasks until every master owns at least one of them
    const tasks: string[] = [];
    const masters = new Set<string>();
    while (masters.size < 3 || tasks.length < 12) {
      const taskId = randomTaskId();
      tasks.push(taskId);
      masters.add(raw.slots[calculateSlot(taskChannel(prefix, taskId))]![0]!);
    }
    const rec = recorder();
    await Promise.all(tasks.map((taskId) => engine.subscribe(taskChannel(prefix, taskId), rec.listener)));
    const user = recorder();
    await engine.subscribe(userChannel(prefix, 'u-1'), user.listener);
    expect(engine.subscriberConnections()).toBe(3);
    for (const taskId of tasks) for (const i of range(1, 3)) await publisher.publish(progressEvent(taskId, i));
    expect(await publisher.broadcast(userChannel(prefix, 'u-1'), 'hello')).toBe(1);
    await rec.waitForCount(tasks.length * 3);
    await user.waitForCount(1);
    for (const taskId of tasks) {
      const mine = rec.frames.filter((_, i) => rec.channels[i] === taskChannel(prefix, taskId));
      expect(offsetsOf(mine)).toEqual([1, 2, 3]);
    }
    expect(user.frames[0]!.toString()).toBe('hello');
    await Promise.all(tasks.map((taskId) => engine.unsubscribe(taskChannel(prefix, taskId), rec.listener)));
    const owner = await ownerOf(raw, taskChannel(prefix, tasks[0]!));
    expect(await owner.call('PUBSUB', 'SHARDNUMSUB', taskChannel(prefix, tasks[0]!))).toEqual([taskChannel(prefix, tasks[0]!), 0]);
  });

  it('moves a channel when its slot migrates to another master, reports lost, then restored, and fences the moved task', async () => {
    const prefix = randomPrefix();
    const engine = await clusterEngine(prefix);
    const publisher = await clusterEngine(prefix);
    const raw = rawCluster();
    const taskId = randomTaskId();
    const channel = taskChannel(prefix, taskId);
    const slot = calculateSlot(channel);
    const rec = recorder();
    const events: string[] = [];
    engine.onLinkChange((event) => events.push(event));
    await engine.subscribe(channel, rec.listener);
    await publisher.publish(progressEvent(taskId, 1));
    await rec.waitForCount(1);

    const source = await ownerOf(raw, channel);
    const ids = await Promise.all(
      raw.nodes('master').map(async (node) => ({ node, id: (await node.call('CLUSTER', 'MYID')) as string })),
    );
    const sourceId = (await source.call('CLUSTER', 'MYID')) as string;
    const destination = ids.find(({ id }) => id !== sourceId)!;
    // the documented manual migration of one slot (keys first, then ownership on both sides)
    await destination.node.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', sourceId);
    await source.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', destination.id);
    const destinationPort = destination.node.options.port!;
    for (;;) {
      const keys = (await source.call('CLUSTER', 'GETKEYSINSLOT', slot, 100)) as string[];
      if (keys.length === 0) break;
      await source.call('MIGRATE', '127.0.0.1', destinationPort, '', 0, 5000, 'KEYS', ...keys);
    }
    await destination.node.call('CLUSTER', 'SETSLOT', slot, 'NODE', destination.id);
    await source.call('CLUSTER', 'SETSLOT', slot, 'NODE', destination.id);

    await waitFor('lost then restored', () => events.join() === 'lost,restored', 15_000);
    expect(engine.isReady()).toBe(true);
    // the task's keys moved whole, but the fence cannot tell a migration from a failover: a new epoch, told to subscribers
    const next = published(await publisher.publish(progressEvent(taskId, 2)));
    expect(next.offset).toBe(1);
    await rec.waitForCount(2);
    expect(rec.frames[1]).toEqual(next.frame);
    const moved = new Redis(destinationPort, '127.0.0.1');
    closeWithEngines({ close: () => moved.quit().catch(() => moved.disconnect()) });
    expect(await moved.call('PUBSUB', 'SHARDNUMSUB', channel)).toEqual([channel, 1]);
  });
});
