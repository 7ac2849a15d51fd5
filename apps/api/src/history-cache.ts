/**
 * Recent history bodies, kept by task and limit with the position (epoch, offset) they were read at.
 * A task's frames never change once written, and its offset grows with every frame (a new epoch restarts
 * the history), so a body read at the task's current epoch and offset is still the true answer: a read
 * then costs one HMGET of the snapshot (Redis 5.8 µs) instead of that and the read-history script (28 µs
 * for 20 frames, 132 µs for 100, mostly turning the XREVRANGE reply into Lua tables and back; measured by
 * bench/src/micro/history-read-cost.ts). A miss costs both, about 20 % more than the script alone.
 * Bounded in bytes, least recently used first out.
 */

/** A history response body and the task position it was read at. */
export interface CachedHistory {
  epoch: string;
  offset: number;
  body: Buffer;
}

/** LRU of history bodies keyed by task and limit, at most `maxBytes` of bodies. */
export class HistoryCache {
  private readonly entries = new Map<string, CachedHistory>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** The body cached for this task and limit if it was read at exactly this position. */
  get(taskId: string, limit: number, epoch: string, offset: number): Buffer | undefined {
    const key = `${limit}:${taskId}`;
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.epoch !== epoch || entry.offset !== offset) {
      this.delete(key, entry);
      return undefined;
    }
    // Re-insert: a Map iterates in insertion order, so the first key is the least recently used.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.body;
  }

  /** Keeps a body read at `epoch` and `offset`; bodies larger than a tenth of the budget are not kept. */
  set(taskId: string, limit: number, entry: CachedHistory): void {
    if (entry.body.length * 10 > this.maxBytes) return;
    const key = `${limit}:${taskId}`;
    const old = this.entries.get(key);
    if (old) this.delete(key, old);
    this.entries.set(key, entry);
    this.bytes += entry.body.length;
    for (const [oldest, value] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.delete(oldest, value);
    }
  }

  /** Bytes of bodies held. */
  get size(): number {
    return this.bytes;
  }

  private delete(key: string, entry: CachedHistory): void {
    this.entries.delete(key);
    this.bytes -= entry.body.length;
  }
}
