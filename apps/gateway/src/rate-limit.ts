/**
 * A per-connection token bucket for client frames: `perSecond` sustained, `burst` at once. Frames over
 * the limit are refused one by one; a client that keeps sending while refused earns strikes and is
 * closed once it reaches `maxStrikes`, so a misbehaving client costs a bounded amount of work.
 */

export interface RateLimit {
  /** Frames per second refilled. */
  perSecond: number;
  /** Bucket size: frames accepted at once after a quiet spell. */
  burst: number;
  /** Refused frames in a row (no accepted frame between) before the connection is closed. */
  maxStrikes: number;
}

/** The default: 100 frames/s, bursts of 200, closed after 100 refused frames in a row. */
export const DEFAULT_RATE_LIMIT: RateLimit = { perSecond: 100, burst: 200, maxStrikes: 100 };

export type RateVerdict = 'accept' | 'refuse' | 'close';

/** One connection's bucket. */
export class FrameRateLimiter {
  private tokens: number;
  private last: number;
  private strikes = 0;

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = limit.burst;
    this.last = now();
  }

  /** Takes a token for one frame: accept it, refuse it with an error, or close the connection. */
  take(): RateVerdict {
    const now = this.now();
    this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.last) * this.limit.perSecond) / 1000);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      this.strikes = 0;
      return 'accept';
    }
    this.strikes += 1;
    return this.strikes >= this.limit.maxStrikes ? 'close' : 'refuse';
  }
}
