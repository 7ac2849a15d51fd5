/** The Redis engine beyond the contract suite (engine-contract.test.ts): keys, TTL, stream cap, raw pub/sub, loss. */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { LIMITS, taskChannel } from '@taskpulse/protocol';
import { waitFor } from '@taskpulse/testkit';
import { uniquePrefix, closeEnginesAfterEach, testRedisUrl, openRedisEngine, rawRedisClient } from '@taskpulse/testkit/engines';
import { describe, expect, it } from 'vitest';
import {
  completeEvent,
  ExpectedTask,
  offsetsOf,
  progressEvent,
  publishChecked,
  published,
  randomTaskId,
  range,
  recorder,
  startEvent,
} from './engine-test-helpers';

const run = promisify(execFile);
closeEnginesAfterEach();

const keysOf = (prefix: string, taskId: string) => ({
  history: `${prefix}:{t:${taskId}}:h`,
  meta: `${prefix}:{t:${taskId}}:m`,
});

describe('redis engine storage', () => {
  it('sets a 24 h TTL on both keys and caps the stream at exactly 100 entries', async () => {
    const prefix = uniquePrefix();
    const engine = await openRedisEngine(prefix);
    const taskId = randomTaskId();
    await publishChecked(engine, new ExpectedTask(), range(1, 150).map((i) => progressEvent(taskId, i % 100)));
    const raw = rawRedisClient();
    const keys = keysOf(prefix, taskId);
    for (const key of [keys.history, keys.meta]) {
      const ttl = await raw.ttl(key);
      expect(ttl).toBeGreaterThan(86_000);
      expect(ttl).toBeLessThanOrEqual(LIMITS.historyTtlSeconds);
    }
    expect(await raw.xlen(keys.history)).toBe(100);
    const [[firstId]] = (await raw.xrange(keys.history, '-', '+', 'COUNT', 1)) as [[string, string[]]];
    expect(firstId).toBe('51-0');
    // the same, as an operator would check it
    const cli = async (...args: string[]) => (await run('redis-cli', ['-u', testRedisUrl(), ...args], { timeout: 5000 })).stdout.trim();
    expect(await cli('XLEN', keys.history)).toBe('100');
    expect(Number(await cli('TTL', keys.meta))).toBeGreaterThan(86_000);
  });

  it('refreshes the expiry of both keys at most once a minute by the publisher\'s clock, and when that clock goes back', async () => {
    const prefix = uniquePrefix();
    let now = Date.now();
    const engine = await openRedisEngine(prefix, { now: () => now });
    const taskId = randomTaskId();
    const raw = rawRedisClient();
    const keys = keysOf(prefix, taskId);
    const ttls = async () => Promise.all([raw.ttl(keys.history), raw.ttl(keys.meta)]);
    await engine.publish(progressEvent(taskId, 1));
    for (const key of [keys.history, keys.meta]) await raw.expire(key, 1000);
    now += 59_000;
    await engine.publish(progressEvent(taskId, 2));
    expect(await ttls()).toEqual([1000, 1000].map(() => expect.toSatisfy((ttl: number) => ttl > 990 && ttl <= 1000)));
    now += 1_000;
    await engine.publish(progressEvent(taskId, 3));
    for (const ttl of await ttls()) expect(ttl).toBeGreaterThan(86_000);
    for (const key of [keys.history, keys.meta]) await raw.expire(key, 1000);
    now -= 10_000; // another publisher's clock, behind
    await engine.publish(progressEvent(taskId, 4));
    for (const ttl of await ttls()) expect(ttl).toBeGreaterThan(86_000);
  });

  it('publishes the exact frame to a plain SUBSCRIBE and stores the same bytes', async () => {
    const prefix = uniquePrefix();
    const engine = await openRedisEngine(prefix);
    const taskId = randomTaskId();
    const sub = rawRedisClient();
    const received: Buffer[] = [];
    sub.on('messageBuffer', (_channel: Buffer, message: Buffer) => received.push(message));
    await sub.subscribe(taskChannel(prefix, taskId));
    const model = new ExpectedTask();
    const message = 'naïve café 😀 "q" \\ \n\u2028';
    const result = { nested: { a: [1, { b: 'x"y' }], c: null }, 'ü': true };
    const frames = await publishChecked(engine, model, [
      startEvent(taskId, 'u-1'),
      progressEvent(taskId, 12.5, { message, currentStep: '步骤' }),
      completeEvent(taskId, result),
    ]);
    await waitFor('3 frames on the raw subscriber', () => received.length === 3);
    expect(received).toEqual(frames);
    const raw = rawRedisClient();
    const stored = (await raw.xrangeBuffer(keysOf(prefix, taskId).history, '-', '+')).map(([, fields]) => fields[1]);
    expect(stored).toEqual(frames);
    expect(await raw.hgetBuffer(keysOf(prefix, taskId).meta, '_pf')).toEqual(frames[1]);
    expect(await raw.hgetBuffer(keysOf(prefix, taskId).meta, '_sf')).toEqual(frames[2]);
  });

  it('shows the frame to redis-cli SUBSCRIBE as the same text', async () => {
    const prefix = uniquePrefix();
    const engine = await openRedisEngine(prefix);
    const taskId = randomTaskId();
    const channel = taskChannel(prefix, taskId);
    const cli = spawn('redis-cli', ['-u', testRedisUrl(), '--raw', 'SUBSCRIBE', channel], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    cli.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      const raw = rawRedisClient();
      await waitFor('redis-cli to subscribe', async () => ((await raw.pubsub('NUMSUB', channel)) as [string, number])[1] === 1);
      const { frame } = published(await engine.publish(progressEvent(taskId, 7, { message: 'über "cli"' })));
      await waitFor('the frame in redis-cli output', () => output.split('\n').includes(frame.toString()));
    } finally {
      cli.kill();
    }
  });

  it('starts a new epoch at offset 1 when the keys were lost', async () => {
    const prefix = uniquePrefix();
    const engine = await openRedisEngine(prefix);
    const taskId = randomTaskId();
    const keys = keysOf(prefix, taskId);
    const raw = rawRedisClient();
    const before = published(await engine.publish(progressEvent(taskId, 1)));
    await engine.publish(progressEvent(taskId, 2));
    await raw.del(keys.history, keys.meta);
    expect(await engine.latest(taskId)).toBeNull();
    const after = published(await engine.publish(progressEvent(taskId, 3)));
    expect(after.offset).toBe(1);
    expect(after.epoch).not.toBe(before.epoch);
    // only the snapshot lost, the stream left behind: the old entries must not leak into the new epoch
    await engine.publish(progressEvent(taskId, 4));
    await raw.del(keys.meta);
    const third = published(await engine.publish(progressEvent(taskId, 5)));
    expect(third.offset).toBe(1);
    expect((await engine.history(taskId, 100))!.frames).toEqual([third.frame]);
    expect((await engine.replay(taskId, 0, 100))!).toMatchObject({ complete: true, frames: [third.frame] });
  });

  it('starts a new epoch after FLUSHDB on its own database', async () => {
    const url = `${testRedisUrl()}/7`;
    const prefix = uniquePrefix();
    const engine = await openRedisEngine(prefix, { url });
    const taskId = randomTaskId();
    const before = published(await engine.publish(completeEvent(taskId)));
    await rawRedisClient(url).flushdb();
    expect(await engine.stats()).toMatchObject({ tasks: 0 });
    const after = published(await engine.publish(progressEvent(taskId, 10)));
    expect(after).toMatchObject({ offset: 1 });
    expect(after.epoch).not.toBe(before.epoch);
    expect((await engine.stats()).by_status).toMatchObject({ running: 1, completed: 0 });
  });

  it('loads the scripts again after SCRIPT FLUSH (NOSCRIPT fallback)', async () => {
    const engine = await openRedisEngine(uniquePrefix());
    const taskId = randomTaskId();
    await engine.publish(progressEvent(taskId, 1));
    expect((await engine.history(taskId, 10))!.count).toBe(1);
    await rawRedisClient().script('FLUSH');
    expect(published(await engine.publish(progressEvent(taskId, 2))).offset).toBe(2);
    await rawRedisClient().script('FLUSH');
    expect(offsetsOf((await engine.history(taskId, 10))!.frames)).toEqual([2, 1]);
  });

  it('runs a batch again, in order, after SCRIPT FLUSH (NOSCRIPT fallback in one pipeline)', async () => {
    const engine = await openRedisEngine(uniquePrefix());
    const [a, b] = [randomTaskId(), randomTaskId()];
    await rawRedisClient().script('FLUSH');
    const results = await engine.publishBatch([a, b, a, b].map((taskId, i) => ({ event: progressEvent(taskId, i) })));
    expect(results.map((r) => (r.status === 'published' ? r.offset : r.status))).toEqual([1, 1, 2, 2]);
    expect(offsetsOf((await engine.history(a, 10))!.frames)).toEqual([2, 1]);
  });

  it('sends a batch as runs of 100 events per EVALSHA, not one per event', async () => {
    const engine = await openRedisEngine(uniquePrefix());
    const [a, b] = [randomTaskId(), randomTaskId()];
    const evalshaCalls = async () => Number(/cmdstat_evalsha:calls=(\d+)/.exec(await rawRedisClient().info('commandstats'))?.[1] ?? 0);
    const before = await evalshaCalls();
    const results = await engine.publishBatch(range(1, 250).map((i) => ({ event: progressEvent(i % 2 ? a : b, i % 100) })));
    expect(results.every((r) => r.status === 'published')).toBe(true);
    // 3 runs of the publish script, and the stats index once per task (its first status)
    expect((await evalshaCalls()) - before).toBe(3 + 2);
    expect((await engine.latest(a))!.offset).toBe(125);
  });

  it('answers a batch event whose Redis command fails on its own; the events around it are published', async () => {
    const prefix = uniquePrefix();
    const engine = await openRedisEngine(prefix);
    const [a, broken] = [randomTaskId(), randomTaskId()];
    await rawRedisClient().set(keysOf(prefix, broken).meta, 'not a hash');
    const results = await engine.publishBatch([a, broken, a].map((taskId, i) => ({ event: progressEvent(taskId, i) })));
    expect(results.map((r) => r.status)).toEqual(['published', 'error', 'published']);
    expect(results[1]).toMatchObject({ error: { name: 'EngineUnavailableError', message: expect.stringContaining('WRONGTYPE') } });
    expect(offsetsOf((await engine.history(a, 10))!.frames)).toEqual([2, 1]);
    await expect(engine.publish(progressEvent(broken, 9))).rejects.toMatchObject({ name: 'EngineUnavailableError' });
  });

  it('refuses a history whose stream holds an entry it did not write, as an internal error naming it', async () => {
    const prefix = uniquePrefix();
    const engine = await openRedisEngine(prefix);
    const taskId = randomTaskId();
    await engine.publish(progressEvent(taskId, 1));
    await rawRedisClient().xadd(keysOf(prefix, taskId).history, '99-0', 'other', 'x');
    await expect(engine.history(taskId, 10)).rejects.toMatchObject({ name: 'EngineError', code: 'internal', message: expect.stringContaining('99-0') });
    expect((await engine.replay(taskId, 0, 1))!.frames).toHaveLength(1);
  });

  it('prunes status index entries older than 24 h and stops counting them', async () => {
    const prefix = uniquePrefix();
    const past = await openRedisEngine(prefix, { now: () => Date.now() - 25 * 3_600_000 });
    const engine = await openRedisEngine(prefix);
    await past.publish(progressEvent(randomTaskId(), 1));
    await past.publish(completeEvent(randomTaskId()));
    await engine.publish(progressEvent(randomTaskId(), 1));
    expect(await engine.cleanupOldHistory()).toBe(2);
    expect(await engine.stats()).toMatchObject({ tasks: 1, by_status: { running: 1, completed: 0 } });
    expect(await engine.cleanupOldHistory()).toBe(0);
  });

  it('gives 4 engines publishing to one task offsets 1..200, each once, agreeing everywhere', async () => {
    const prefix = uniquePrefix();
    const taskId = randomTaskId();
    const publishers = await Promise.all(range(1, 4).map(() => openRedisEngine(prefix)));
    const watcher = await openRedisEngine(prefix);
    const rec = recorder();
    await watcher.subscribe(taskChannel(prefix, taskId), rec.listener);
    const results = (
      await Promise.all(range(0, 199).map((i) => publishers[i % 4]!.publish(progressEvent(taskId, i / 2))))
    ).map(published);
    expect(results.map((r) => r.offset).sort((a, b) => a - b)).toEqual(range(1, 200));
    expect(new Set(results.map((r) => r.epoch)).size).toBe(1);
    const byOffset = new Map(results.map((r) => [r.offset, r.frame]));
    await rec.waitForCount(200);
    expect(offsetsOf(rec.frames)).toEqual(range(1, 200));
    rec.frames.forEach((frame, i) => expect(frame).toEqual(byOffset.get(i + 1)));
    const page = (await watcher.history(taskId, 100))!;
    expect(page.frames).toEqual(range(101, 200).reverse().map((offset) => byOffset.get(offset)));
    expect((await watcher.latest(taskId))!.frames).toEqual([byOffset.get(200)]);
  });
});
