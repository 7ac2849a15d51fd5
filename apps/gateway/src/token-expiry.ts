/**
 * Closes a jwt-mode connection when its token expires, unless a refresh moved the expiry. One timer per
 * connection, only when it has an expiry: Node keeps timers in per-duration lists, so arming and clearing
 * one is O(1) and nothing runs until a token actually expires, whereas a periodic sweep would visit every
 * socket each round (the one-second backpressure scan already showed that cost at scale).
 */

/** setTimeout's longest delay (about 24.8 days); a later expiry re-arms when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class TokenExpiry {
  private timer: NodeJS.Timeout | undefined;
  private expiresAt = Number.POSITIVE_INFINITY;

  constructor(private readonly onExpired: () => void) {}

  /** Arms (or re-arms) the timer for an expiry in ms since the epoch. */
  set(expiresAt: number): void {
    this.stop();
    this.expiresAt = expiresAt;
    const delay = Math.max(0, expiresAt - Date.now());
    this.timer = setTimeout(() => this.fire(), Math.min(delay, MAX_TIMER_MS));
    this.timer.unref();
  }

  /** Clears the timer (the socket closed). */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private fire(): void {
    this.timer = undefined;
    if (Date.now() < this.expiresAt) return this.set(this.expiresAt);
    this.onExpired();
  }
}
