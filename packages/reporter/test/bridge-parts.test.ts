/** The bridge's pure parts: what a BullMQ progress value means, and the job owner cache. */
import { describe, expect, it } from 'vitest';
import { ReporterInputError, progressEventOf } from '../src/index';
import { JobOwnerCache } from '../src/job-owner-cache';

const TS = '2026-02-21T10:30:00.000Z';

describe('progressEventOf', () => {
  it('reads numbers as percents and objects by either field name', () => {
    expect(progressEventOf('t1', 42.5, TS)).toEqual({ kind: 'progress', taskId: 't1', progress: 42.5, timestamp: TS });
    expect(
      progressEventOf('t1', { progress: 50, message: 'm', current_step: 'a', completed_steps: 2, total_steps: 4 }, TS),
    ).toMatchObject({ progress: 50, message: 'm', currentStep: 'a', completedSteps: 2, totalSteps: 4 });
    expect(progressEventOf('t1', { percent: 10, step: 'b' }, TS)).toMatchObject({ progress: 10, currentStep: 'b' });
    expect(progressEventOf('t1', { completed_steps: 1, total_steps: 3 }, TS)).toMatchObject({ progress: 33.33 });
    expect(progressEventOf('t1', { completed_steps: 0, total_steps: 0 }, TS)).toMatchObject({ progress: 0 });
  });

  it.each([['a string', '50'], ['a boolean', true], ['null', null], ['an array', [50]], ['an object without a percent', { message: 'x' }]])(
    'refuses %s naming progress',
    (_name, value) => {
      expect(() => progressEventOf('t1', value, TS)).toThrow(ReporterInputError);
      try {
        progressEventOf('t1', value, TS);
      } catch (error) {
        expect(error).toMatchObject({ field: 'progress', taskId: 't1' });
      }
    },
  );
});

describe('JobOwnerCache', () => {
  function cache(options: { ttlMs?: number; maxEntries?: number } = {}) {
    let now = 0;
    const reads: string[] = [];
    const jobs = new Map<string, { data: unknown }>([
      ['1', { data: { task_id: 'task-1', user_id: 'u1', project_id: 'p1' } }],
      ['2', { data: {} }],
      ['3', { data: { task_id: 'task-3' } }],
    ]);
    const owners = new JobOwnerCache(
      async (jobId) => {
        reads.push(jobId);
        return jobs.get(jobId);
      },
      { ...options, now: () => now },
    );
    return { owners, reads, jobs, advance: (ms: number) => (now += ms) };
  }

  it('reads a job once and keeps its owner, even after the job is removed', async () => {
    const { owners, reads, jobs } = cache();
    expect(await owners.resolve('1')).toEqual({ taskId: 'task-1', userId: 'u1', projectId: 'p1' });
    jobs.delete('1');
    expect(await owners.resolve('1')).toEqual({ taskId: 'task-1', userId: 'u1', projectId: 'p1' });
    expect(reads).toEqual(['1']);
    expect(await owners.resolve('2')).toEqual({ taskId: '2' });
    expect(await owners.resolve('9')).toEqual({ taskId: '9', removed: true });
  });

  it('reads again when fresh, after expiry, or after forget', async () => {
    const { owners, reads, advance } = cache({ ttlMs: 1000 });
    await owners.resolve('1');
    await owners.resolve('1', true);
    advance(999);
    await owners.resolve('1');
    advance(1000);
    await owners.resolve('1');
    owners.forget('1');
    await owners.resolve('1');
    expect(reads).toEqual(['1', '1', '1', '1']);
  });

  it('keeps at most maxEntries, dropping the least recently used', async () => {
    const { owners, reads } = cache({ maxEntries: 2 });
    await owners.resolve('1');
    await owners.resolve('2');
    await owners.resolve('1');
    await owners.resolve('3');
    expect(owners.size).toBe(2);
    await owners.resolve('1');
    await owners.resolve('2');
    expect(reads).toEqual(['1', '2', '3', '2']);
  });
});

describe('startBullmqBridge options', () => {
  it('refuses minIntervalMs beside a reporter, which brings its own window', async () => {
    const { createMemoryEngine } = await import('@taskpulse/engine');
    const { createReporter, startBullmqBridge } = await import('../src/index');
    const reporter = createReporter(createMemoryEngine());
    const options = { reporter, minIntervalMs: 100, queueName: 'q', connection: {} };
    expect(() => startBullmqBridge(options as unknown as Parameters<typeof startBullmqBridge>[0])).toThrow(/minIntervalMs goes with engine/);
  });
});
