/**
 * The periodic history cleanup (build's cleanupIntervalMs): on the memory engine with a moved clock it
 * drops expired tasks and counts them; failures are logged with context and counted, and it keeps
 * going; runs never overlap; close stops the timer and waits for a run in flight; 0 is off.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { createMemoryEngine, type Engine } from '@taskpulse/engine';
import { createReporter, type ProgressReporter } from '@taskpulse/reporter';
import { waitFor } from '@taskpulse/testkit';
import { build } from '../src/build';
import { CleanupIntervalError } from '../src/index';

const DAY_MS = 24 * 3_600_000;
let app: FastifyInstance | undefined;
let engine: Engine | undefined;

afterEach(async () => {
  await app?.close();
  await engine?.close();
  app = engine = undefined;
});

async function metric(name: string): Promise<number> {
  const text = await app!.apiMetrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.split(' ')[1]);
}

/** A reporter over `engine` whose cleanupOldHistory is replaced. */
function reporterWith(base: Engine, cleanupOldHistory: () => Promise<number>): ProgressReporter {
  return { ...createReporter(base), cleanupOldHistory };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('periodic history cleanup', () => {
  it('drops tasks older than 24 h on the moved clock and counts them', async () => {
    let clock = Date.parse('2030-01-01T00:00:00Z');
    engine = createMemoryEngine({ now: () => clock });
    app = await build({ engine, cleanupIntervalMs: 20 });
    for (const id of ['old-1', 'old-2']) {
      expect((await app.inject({ method: 'POST', url: `/api/v1/tasks/${id}/start`, payload: {} })).statusCode).toBe(201);
    }
    expect(await metric('taskpulse_api_cleanup_dropped_total')).toBe(0);

    clock += DAY_MS + 1000;
    expect((await app.inject({ method: 'POST', url: '/api/v1/tasks/fresh/start', payload: {} })).statusCode).toBe(201);
    await waitFor('the cleanup to drop both old tasks', async () => (await metric('taskpulse_api_cleanup_dropped_total')) === 2);
    expect((await app.inject('/api/v1/progress/fresh')).statusCode).toBe(200);
    expect((await app.inject('/api/v1/progress/old-1')).statusCode).toBe(404);
    expect((await app.inject('/api/v1/progress/stats')).json().tasks).toBe(1);
    expect(await metric('taskpulse_api_cleanup_failures_total')).toBe(0);
  });

  it('logs a failure with its context, counts it, and tries again at the next interval', async () => {
    engine = createMemoryEngine();
    const lines: any[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()));
        done();
      },
    });
    let calls = 0;
    const reporter = reporterWith(engine, async () => {
      calls++;
      throw new Error('redis went away');
    });
    app = await build({ engine, reporter, cleanupIntervalMs: 15, logger: pino({ level: 'info' }, sink) });
    await waitFor('two failed runs', async () => (await metric('taskpulse_api_cleanup_failures_total')) >= 2);
    expect(calls).toBeGreaterThanOrEqual(2);
    const logged = lines.find((l) => l.msg === 'history cleanup failed; it runs again at the next interval');
    expect(logged).toMatchObject({ level: 50, engine: 'memory', intervalMs: 15, err: { message: 'redis went away' } });
    expect(typeof logged.elapsedMs).toBe('number');
  });

  it('never overlaps runs, and close waits for the one in flight, then stops the timer', async () => {
    engine = createMemoryEngine();
    let calls = 0;
    let release!: (dropped: number) => void;
    const reporter = reporterWith(engine, () => {
      calls++;
      return new Promise<number>((resolve) => (release = resolve));
    });
    app = await build({ engine, reporter, cleanupIntervalMs: 10 });
    await waitFor('the first run to start', () => calls === 1);
    await sleep(80);
    expect(calls).toBe(1);

    let closed = false;
    const closing = app.close().then(() => (closed = true));
    await sleep(30);
    expect(closed).toBe(false);
    release(3);
    await closing;
    expect(await metric('taskpulse_api_cleanup_dropped_total')).toBe(3);
    await sleep(60);
    expect(calls).toBe(1);
    app = undefined;
  });

  it('does not run at all when the interval is 0', async () => {
    engine = createMemoryEngine();
    let calls = 0;
    app = await build({ engine, reporter: reporterWith(engine, async () => ++calls), cleanupIntervalMs: 0 });
    await sleep(60);
    expect(calls).toBe(0);
  });

  it.each([-1, 1.5, 2 ** 31, Number.NaN])('refuses cleanupIntervalMs %s, which setInterval cannot keep', async (intervalMs) => {
    await expect(build({ cleanupIntervalMs: intervalMs })).rejects.toBeInstanceOf(CleanupIntervalError);
  });
});
