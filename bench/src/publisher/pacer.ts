/**
 * A token-bucket pacing loop: sends at a fixed offered rate until a deadline, at most `maxInflight`
 * unacknowledged sends at a time. It wakes every millisecond rather than spinning (two cores are shared
 * with everything else) and never bursts more than 20 ms of tokens; when it cannot keep up, the shortfall
 * shows as a lower achieved rate and a growing lag rather than as a burst.
 */
import { nowMicros } from '../clock';

/** What a paced run sent, how it failed, and how far it fell behind. */
export interface PaceResult {
  sent: number;
  errors: number;
  firstError?: string;
  maxLagMs: number;
}

/** Calls `send(i)` `rate` times a second until `untilMicros`; waits for in-flight sends before returning. */
export async function pace(
  rate: number,
  untilMicros: number,
  maxInflight: number,
  send: (i: number) => Promise<unknown> | void,
): Promise<PaceResult> {
  const t0 = nowMicros();
  const burst = Math.max(1, Math.ceil(rate * 0.02));
  let sent = 0;
  let issued = 0;
  let inflight = 0;
  let errors = 0;
  let firstError: string | undefined;
  let maxLagMs = 0;
  const fail = (error: unknown) => {
    errors++;
    firstError ??= error instanceof Error ? error.message : String(error);
  };
  const settle = () => {
    inflight--;
  };
  for (;;) {
    const now = nowMicros();
    if (now >= untilMicros) break;
    const due = Math.floor(((now - t0) * rate) / 1e6);
    // Tokens older than one burst are dropped: the schedule slips instead of bursting.
    if (due - issued > burst) issued = due - burst;
    while (issued < due && inflight < maxInflight) {
      issued++;
      try {
        const result = send(sent++);
        if (result) {
          inflight++;
          result.then(settle, (error: unknown) => {
            settle();
            fail(error);
          });
        }
      } catch (error) {
        fail(error);
      }
    }
    const expected = ((now - t0) * rate) / 1e6;
    maxLagMs = Math.max(maxLagMs, ((expected - sent) / rate) * 1000);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  const deadline = Date.now() + 10_000;
  while (inflight > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  return { sent, errors, ...(firstError ? { firstError } : {}), maxLagMs: Math.round(maxLagMs * 10) / 10 };
}

/** Runs `fn` over items with at most `limit` at a time. */
export async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown> | void): Promise<number> {
  let next = 0;
  let errors = 0;
  const lane = async () => {
    while (next < items.length) {
      try {
        await fn(items[next++]!);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return errors;
}
