/** The history body cache: a body is only answered at the position it was read at, and the budget holds. */
import { describe, expect, it } from 'vitest';
import { HistoryCache } from '../src/history-cache';

const body = (bytes: number, fill = 'x') => Buffer.from(fill.repeat(bytes));

describe('HistoryCache', () => {
  it('answers a body only for the epoch and offset it was read at, per limit', () => {
    const cache = new HistoryCache(10_000);
    cache.set('t', 20, { epoch: 'e1', offset: 5, body: body(10, 'a') });
    expect(cache.get('t', 20, 'e1', 5)?.toString()).toBe('a'.repeat(10));
    expect(cache.get('t', 100, 'e1', 5)).toBeUndefined();
    expect(cache.get('t', 20, 'e2', 5)).toBeUndefined();
    // a moved position drops the stale body
    expect(cache.get('t', 20, 'e1', 6)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('drops the least recently used bodies past its byte budget and skips bodies over a tenth of it', () => {
    const cache = new HistoryCache(1000);
    for (const t of ['a', 'b', 'c']) cache.set(t, 20, { epoch: 'e', offset: 1, body: body(100) });
    expect(cache.get('a', 20, 'e', 1)).toBeDefined(); // a is now the most recently used
    for (let i = 0; i < 8; i++) cache.set(`n${i}`, 20, { epoch: 'e', offset: 1, body: body(100) });
    expect(cache.size).toBeLessThanOrEqual(1000);
    expect(cache.get('b', 20, 'e', 1)).toBeUndefined();
    expect(cache.get('a', 20, 'e', 1)).toBeDefined();
    cache.set('big', 20, { epoch: 'e', offset: 1, body: body(101) });
    expect(cache.get('big', 20, 'e', 1)).toBeUndefined();
  });
});
