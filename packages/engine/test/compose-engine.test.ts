/** Engines composed from roles: the contract holds, one role can be replaced alone, a role missing a method is refused. */
import { describe, expect, it } from 'vitest';
import { taskChannel } from '@taskpulse/protocol';
import { closeEnginesAfterEach, closeWithEngines, openRedisEngine, rawRedisClient } from '@taskpulse/testkit/engines';
import { bindRoles, composeEngine, createMemoryEngine, type SessionStore } from '../src/index';
import { runEngineContract } from './engine-contract';
import { progressEvent, published, randomTaskId, recorder } from './engine-test-helpers';

closeEnginesAfterEach();

runEngineContract('composed from the memory engine’s roles', async (prefix) => {
  const memory = createMemoryEngine({ prefix });
  return composeEngine(memory, { tasks: memory, channels: memory, nodes: memory, sessions: memory });
});

describe('composeEngine', () => {
  it('replaces one role alone: sessions in memory, tasks and channels in Redis', async () => {
    const redis = await openRedisEngine();
    const sessions = closeWithEngines(createMemoryEngine({ prefix: redis.prefix }));
    const engine = composeEngine(redis, { tasks: redis, channels: redis, nodes: redis, sessions });
    expect(engine.kind).toBe('redis');
    expect(engine.isReady()).toBe(true);

    const taskId = randomTaskId();
    const seen = recorder();
    await engine.subscribe(taskChannel(engine.prefix, taskId), seen.listener);
    const result = published(await engine.publish(progressEvent(taskId, 40)));
    await seen.waitForCount(1);
    expect(seen.frames[0]).toEqual(result.frame);
    expect((await redis.latest(taskId))!.offset).toBe(result.offset);

    await engine.saveSession('c1', { who: { userId: 'u1' }, tasks: {} }, 60);
    expect(await sessions.loadSession('c1')).toEqual({ who: { userId: 'u1' }, tasks: {} });
    expect(await redis.loadSession('c1')).toBeNull();
    expect(await rawRedisClient().exists(`${redis.prefix}:s:c1`)).toBe(0);
  });

  it('refuses an object that lacks a method of its role, naming both', () => {
    const memory = createMemoryEngine();
    const broken = { saveSession: memory.saveSession.bind(memory) } as unknown as SessionStore;
    expect(() => bindRoles({ tasks: memory, channels: memory, nodes: memory, sessions: broken })).toThrow(
      'the object playing the sessions role has no method saveSessions',
    );
  });
});
