/**
 * `taskpulse_gateway_delivery_latency_seconds`: from a frame's `published_at` (ms, stamped when it was
 * published) to the moment this gateway hands it to its sockets, by channel kind. Observed per fan-out
 * (one `app.publish`), not per socket: every socket of the topic gets the frame in that same call.
 *
 * Task frames are sampled: one in TASK_SAMPLE_EVERY (the first one included), because reading the field and
 * the clock costs ~0.25 µs, a noticeable share of a task frame's fan-out; a uniform sample keeps the
 * quantiles and `_count` counts the sampled frames (the frames themselves are in
 * `taskpulse_gateway_frames_fanned_out_total`). User and project broadcasts, rare and wide, are all observed.
 *
 * The fan-out is the hot path, so this is a plain array of bucket counts the listener adds to (an integer
 * compare per bucket, no label hashing), turned into a Prometheus histogram only when scraped; prom-client's
 * Histogram.observe validates and hashes labels on every call. Resolution is the 1 ms of `published_at`;
 * the publisher's and the gateway's clocks must agree (NTP), and a negative difference counts as 0.
 */
import type { Registry } from 'prom-client';
import type { ChannelKind } from './metrics';

/** Upper bounds in ms; exported in seconds as the `le` label. */
const BOUNDS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000] as const;
const KINDS: readonly ChannelKind[] = ['task', 'user', 'project'];
const NAME = 'taskpulse_gateway_delivery_latency_seconds';
/** One task frame in this many is observed. */
export const TASK_SAMPLE_EVERY = 8;

/** Per kind: bucket counts (the last one is +Inf), the sum in ms, the count. */
interface Series {
  buckets: Float64Array;
  sumMs: number;
  count: number;
}

/** The delivery latency histogram; `observe` is what the fan-out calls. */
export class DeliveryLatency {
  private readonly series: Record<ChannelKind, Series>;
  /** Task frames since the last sampled one; starts due, so the first frame is observed. */
  private taskSkip = TASK_SAMPLE_EVERY - 1;

  constructor(registry: Registry) {
    const make = (): Series => ({ buckets: new Float64Array(BOUNDS_MS.length + 1), sumMs: 0, count: 0 });
    this.series = { task: make(), user: make(), project: make() };
    // Several gateways on one registry (tests) keep their own counts; the first one registered is exported.
    if (registry.getSingleMetric(NAME) === undefined) registry.registerMetric(this.asMetric() as never);
  }

  /** True when this task frame is to be observed (one in TASK_SAMPLE_EVERY): a counter, no clock. */
  sampleTask(): boolean {
    if (++this.taskSkip < TASK_SAMPLE_EVERY) return false;
    this.taskSkip = 0;
    return true;
  }

  /** Counts one frame published at `publishedAtMs` and handed out at `nowMs`; a frame without the field (-1) is skipped. */
  observe(kind: ChannelKind, publishedAtMs: number, nowMs: number): void {
    if (publishedAtMs < 0) return;
    const ms = nowMs > publishedAtMs ? nowMs - publishedAtMs : 0;
    const series = this.series[kind];
    let i = 0;
    while (i < BOUNDS_MS.length && ms > BOUNDS_MS[i]!) i++;
    series.buckets[i]! += 1;
    series.sumMs += ms;
    series.count += 1;
  }

  /** The shape prom-client's registry reads from a metric: cumulative buckets, sum and count per kind. */
  private asMetric() {
    const get = async () => ({
      name: NAME,
      help: 'Time from a frame being published to this gateway handing it to its sockets (one observation per fan-out, not per socket), by channel kind.',
      type: 'histogram',
      aggregator: 'sum',
      values: KINDS.flatMap((kind) => {
        const series = this.series[kind];
        let cumulative = 0;
        const buckets = [...BOUNDS_MS, Number.POSITIVE_INFINITY].map((bound, i) => {
          cumulative += series.buckets[i]!;
          return { metricName: `${NAME}_bucket`, labels: { kind, le: bound === Number.POSITIVE_INFINITY ? '+Inf' : bound / 1000 }, value: cumulative };
        });
        return [
          ...buckets,
          { metricName: `${NAME}_sum`, labels: { kind }, value: series.sumMs / 1000 },
          { metricName: `${NAME}_count`, labels: { kind }, value: series.count },
        ];
      }),
    });
    return { name: NAME, help: '', type: 'histogram', aggregator: 'sum', get, reset: () => undefined };
  }
}
