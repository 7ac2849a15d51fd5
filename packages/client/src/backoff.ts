/**
 * Reconnect delays: exponential backoff with full jitter between a floor and a cap (the guide advises 1 s to
 * 30 s and no attempt limit). Full jitter spreads a crowd of clients dropped by one gateway restart over the
 * whole window instead of bringing them back in synchronised waves.
 */

/** Bounds of the reconnect delay, in milliseconds. */
export interface BackoffOptions {
  /** The shortest wait before a reconnect attempt (default 1000). */
  minDelayMs?: number;
  /** The longest wait (default 30000). */
  maxDelayMs?: number;
}

export const DEFAULT_MIN_DELAY_MS = 1000;
export const DEFAULT_MAX_DELAY_MS = 30_000;

/**
 * The wait before reconnect attempt `attempt` (1-based): uniform between the floor and
 * min(max, floor * 2^attempt). `random` returns a number in [0, 1) (Math.random by default).
 */
export function reconnectDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const floor = options.minDelayMs ?? DEFAULT_MIN_DELAY_MS;
  const cap = Math.max(floor, options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS);
  // 2^attempt overflows nothing below attempt 1024, but the cap is reached long before: stop growing there.
  const ceiling = Math.min(cap, floor * 2 ** Math.min(Math.max(attempt, 0), 30));
  return Math.round(floor + random() * (ceiling - floor));
}
