/** TokenExpiry: fires once at the expiry, moves on set, stops on stop, and survives expiries past setTimeout's range. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TokenExpiry } from '../src/token-expiry';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('TokenExpiry', () => {
  it('fires at the expiry, later when moved, never once stopped', () => {
    let fired = 0;
    const expiry = new TokenExpiry(() => (fired += 1));
    expiry.set(Date.now() + 1000);
    vi.advanceTimersByTime(999);
    expect(fired).toBe(0);
    expiry.set(Date.now() + 5000); // a refresh
    vi.advanceTimersByTime(4999);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(1);
    expect(fired).toBe(1);
    expiry.set(Date.now() + 100);
    expiry.stop();
    vi.advanceTimersByTime(1000);
    expect(fired).toBe(1);
  });

  it('waits out an expiry beyond setTimeout’s 24.8-day limit', () => {
    let fired = 0;
    const expiry = new TokenExpiry(() => (fired += 1));
    const days40 = 40 * 86_400_000;
    expiry.set(Date.now() + days40);
    vi.advanceTimersByTime(2 ** 31 - 1);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(days40 - (2 ** 31 - 1));
    expect(fired).toBe(1);
  });
});
