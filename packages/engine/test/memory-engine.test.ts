/** The memory engine beyond the contract suite (engine-contract.test.ts): expiry driven by its injectable clock. */
import { describe, expect, it } from 'vitest';
import { createMemoryEngine } from '../src/index';
import { ExpectedTask, progressEvent, publishChecked, published, randomTaskId, startEvent } from './engine-test-helpers';

describe('memory engine expiry', () => {
  const DAY_MS = 86_400_000;

  it('drops a task 24 h after its last event: new epoch, offsets restart at 1', async () => {
    let now = Date.UTC(2026, 1, 21);
    const engine = createMemoryEngine({ now: () => now });
    const taskId = randomTaskId();
    const first = await publishChecked(engine, new ExpectedTask(), [startEvent(taskId), progressEvent(taskId, 10)]);
    const epoch = JSON.parse(first[0]!.toString()).epoch;
    now += DAY_MS - 1;
    expect((await engine.latest(taskId))!.offset).toBe(2);
    expect((await engine.stats()).tasks).toBe(1);
    now += 1;
    expect(await engine.latest(taskId)).toBeNull();
    expect(await engine.history(taskId, 10)).toBeNull();
    expect((await engine.stats()).tasks).toBe(0);
    const again = published(await engine.publish(progressEvent(taskId, 20)));
    expect(again.offset).toBe(1);
    expect(again.epoch).not.toBe(epoch);
    expect((await engine.history(taskId, 100))!.frames).toEqual([again.frame]);
    await engine.close();
  });

  it('counts the tasks cleanupOldHistory drops', async () => {
    let now = 1_000_000;
    const engine = createMemoryEngine({ now: () => now });
    await engine.publish(progressEvent(randomTaskId(), 1));
    await engine.publish(progressEvent(randomTaskId(), 1));
    now += DAY_MS / 2;
    await engine.publish(progressEvent(randomTaskId(), 1));
    now += DAY_MS / 2;
    expect(await engine.cleanupOldHistory()).toBe(2);
    expect(await engine.cleanupOldHistory()).toBe(0);
    expect((await engine.stats()).tasks).toBe(1);
    await engine.close();
  });
});
