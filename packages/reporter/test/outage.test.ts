/**
 * A reporter on a Redis that is down or stalled (issue 7 item 3): every call fails fast with the engine's
 * typed EngineUnavailableError (never hangs, never reports success), and works again once Redis is back.
 */
import { afterEach, expect, it } from 'vitest';
import { pino } from 'pino';
import { startRedisServer, waitFor, type RedisServer } from '@taskpulse/testkit';
import { uniquePrefix } from '@taskpulse/testkit/engines';
import { createRedisEngine, EngineUnavailableError, type RedisEngine } from '@taskpulse/engine';
import { createReporter } from '../src/index';

let server: RedisServer | undefined;
let engine: RedisEngine | undefined;
afterEach(async () => {
  await engine?.close();
  await server?.stop();
  engine = server = undefined;
});

/** How long a refused call took, in ms; fails the test unless it was refused with EngineUnavailableError. */
async function refusedWithin(call: () => Promise<unknown>): Promise<number> {
  const started = Date.now();
  await expect(call()).rejects.toBeInstanceOf(EngineUnavailableError);
  return Date.now() - started;
}

it('refuses reports with EngineUnavailableError while Redis is killed or stalled, and reports again after', async () => {
  server = await startRedisServer(['--appendonly', 'yes', '--appendfsync', 'always']);
  engine = createRedisEngine({ url: server.url, prefix: uniquePrefix(), logger: pino({ level: 'silent' }) });
  await engine.ready();
  const reporter = createReporter(engine);
  await reporter.notifyTaskStart('job-1');
  await reporter.updateProgress('job-1', 10, 'before');

  server.process.kill('SIGKILL');
  expect(await refusedWithin(() => reporter.updateProgress('job-1', 20, 'while down'))).toBeLessThan(3000);
  await server.restart();
  await engine.ready(10_000);
  const back = await reporter.updateProgress('job-1', 30, 'after the restart');
  expect(back).toMatchObject({ offset: 3 }); // the refused report was not written: 1 start, 2 progress, 3 progress

  server.process.kill('SIGSTOP');
  try {
    // a stalled Redis keeps its sockets: the command timeout (2 s) bounds the wait
    expect(await refusedWithin(() => reporter.updateProgress('job-1', 40, 'while stalled'))).toBeLessThan(4000);
    await waitFor('the engine to report the stall', () => !engine!.isReady(), 5000, 50);
  } finally {
    server.process.kill('SIGCONT');
  }
  await engine.ready(10_000);
  await reporter.notifyTaskComplete('job-1');
});
