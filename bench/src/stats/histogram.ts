/**
 * A latency histogram in microseconds with log-linear buckets (64 per power of two, so a bucket is at
 * most 1.6 % wide): small, mergeable across processes, and exact at the low end where the targets are.
 */

const SUB = 64;
const SUB_BITS = 6;

/** A histogram as it crosses a process boundary: sparse bucket counts plus exact extremes. */
export interface HistogramData {
  buckets: Array<[number, number]>;
  count: number;
  min: number;
  max: number;
  sum: number;
}

function bucketOf(value: number): number {
  const v = Math.max(0, Math.floor(value));
  if (v < 2 * SUB) return v;
  const shift = 31 - Math.clz32(v) - SUB_BITS;
  return (shift + 1) * SUB + (v >>> shift) - SUB;
}

function valueOf(bucket: number): number {
  if (bucket < 2 * SUB) return bucket;
  const shift = Math.floor(bucket / SUB) - 1;
  const sub = (bucket % SUB) + SUB;
  return ((sub << shift) + ((sub + 1) << shift)) / 2;
}

/** Collects values (microseconds, up to ~35 minutes) and answers percentiles. */
export class Histogram {
  private counts = new Map<number, number>();
  count = 0;
  min = Number.POSITIVE_INFINITY;
  max = 0;
  sum = 0;

  record(value: number): void {
    const v = value < 0 ? 0 : value;
    const b = bucketOf(Math.min(v, 2 ** 31 - 1));
    this.counts.set(b, (this.counts.get(b) ?? 0) + 1);
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  /** Adds another histogram's counts (from this process or another). */
  merge(other: Histogram | HistogramData): void {
    const data = other instanceof Histogram ? other.toJSON() : other;
    for (const [b, c] of data.buckets) this.counts.set(b, (this.counts.get(b) ?? 0) + c);
    this.count += data.count;
    this.sum += data.sum;
    if (data.count > 0) {
      this.min = Math.min(this.min, data.min);
      this.max = Math.max(this.max, data.max);
    }
  }

  /** The value at percentile `p` (0..100); the exact maximum for 100; NaN when empty. */
  percentile(p: number): number {
    if (this.count === 0) return Number.NaN;
    if (p >= 100) return this.max;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    const sorted = [...this.counts.keys()].sort((a, b) => a - b);
    let seen = 0;
    for (const b of sorted) {
      seen += this.counts.get(b)!;
      if (seen >= rank) return Math.min(Math.max(valueOf(b), this.min), this.max);
    }
    return this.max;
  }

  reset(): void {
    this.counts.clear();
    this.count = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = 0;
    this.sum = 0;
  }

  toJSON(): HistogramData {
    return { buckets: [...this.counts.entries()], count: this.count, min: this.count ? this.min : 0, max: this.max, sum: this.sum };
  }

  static from(data: HistogramData): Histogram {
    const h = new Histogram();
    h.merge(data);
    return h;
  }
}

/** Latency percentiles in milliseconds, the shape every report table uses. */
export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

/** Summarises a histogram of microseconds as milliseconds. */
export function summarize(h: Histogram): LatencySummary {
  const ms = (us: number) => Math.round(us) / 1000;
  return { count: h.count, p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), p999: ms(h.percentile(99.9)), max: ms(h.percentile(100)) };
}
