/**
 * The guide's hourly `CleanupOldHistory`: every `intervalMs` the reporter drops expired tasks. The timer
 * is unref'd (it never keeps a process alive) and cleared on close, which also waits for a run in
 * flight. A failure is logged with its context and counted; the next tick simply tries again.
 */
import type { FastifyPluginAsync } from 'fastify';
import { shared } from './skip-override';

/** The guide runs CleanupOldHistory hourly. */
export const DEFAULT_CLEANUP_INTERVAL_MS = 3_600_000;

/** setInterval's ceiling: a longer delay would silently become 1 ms. */
export const MAX_CLEANUP_INTERVAL_MS = 2_147_483_647;

export interface HistoryCleanupOptions {
  /** Milliseconds between runs; 0 turns the cleanup off. */
  intervalMs: number;
}

/** Thrown by build() for an interval setInterval cannot keep. */
export class CleanupIntervalError extends RangeError {
  override readonly name = 'CleanupIntervalError';
  constructor(readonly got: unknown) {
    super(`cleanupIntervalMs must be a whole number of ms from 0 (off) to ${MAX_CLEANUP_INTERVAL_MS}, got ${String(got)}`);
  }
}

export const historyCleanupPlugin: FastifyPluginAsync<HistoryCleanupOptions> = shared(async (app, { intervalMs }) => {
  if (!Number.isSafeInteger(intervalMs) || intervalMs < 0 || intervalMs > MAX_CLEANUP_INTERVAL_MS) {
    throw new CleanupIntervalError(intervalMs);
  }
  if (intervalMs === 0) return;
  const { apiMetrics: metrics, reporter } = app;
  let inFlight: Promise<void> | undefined;

  const run = async () => {
    const started = Date.now();
    try {
      const dropped = await reporter.cleanupOldHistory();
      metrics.cleanupDropped.inc(dropped);
      if (dropped > 0) app.log.info({ dropped, elapsedMs: Date.now() - started }, 'history cleanup dropped expired tasks');
    } catch (error) {
      metrics.cleanupFailures.inc();
      app.log.error(
        { err: error, engine: app.engine.kind, intervalMs, elapsedMs: Date.now() - started },
        'history cleanup failed; it runs again at the next interval',
      );
    }
  };

  const timer = setInterval(() => {
    // A run slower than the interval (a struggling Redis) is not stacked on: this tick is skipped.
    if (inFlight) {
      app.log.debug({ intervalMs }, 'history cleanup still running; skipping this tick');
      return;
    }
    inFlight = run().finally(() => {
      inFlight = undefined;
    });
  }, intervalMs);
  timer.unref();

  app.addHook('onClose', async () => {
    clearInterval(timer);
    await inFlight;
  });
});
