/**
 * Our gateway's server-side fan-out time, read from its Prometheus histogram
 * `taskpulse_gateway_broadcast_fanout_seconds` (user and project broadcasts; task frames are not timed)
 * as the difference since the previous read. A bucket's count is recorded at the bucket's upper bound,
 * so the figures err high by at most one bucket (bounds 50 µs, 100 µs, 250 µs, 0.5, 1, 2.5, 5, 10 … ms).
 */
import { Histogram } from '../stats/histogram';
import type { FanoutData, StartedNode } from './system';

const BUCKET = /^taskpulse_gateway_broadcast_fanout_seconds_bucket\{([^}]*)\} (\d+)/;

type Cumulative = Map<string, number>; // `${kind} ${le}` -> cumulative count

/** The histogram's cumulative bucket counts in Prometheus text format, by `${kind} ${le}` (label order free). */
export function parseFanoutBuckets(text: string): Cumulative {
  const counts: Cumulative = new Map();
  for (const line of text.split('\n')) {
    const match = BUCKET.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries([...match[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (labels.kind && labels.le) counts.set(`${labels.kind} ${labels.le}`, Number(match[2]));
  }
  return counts;
}

/** Reads each node's histogram; returns the fan-out since the previous call, in microseconds. */
export function createFanoutReader(nodes: StartedNode[]): () => Promise<FanoutData[]> {
  const previous = new Map<number, Cumulative>();
  return () =>
    Promise.all(
      nodes.map(async (node) => {
        const text = await (await fetch(`http://127.0.0.1:${node.port}/metrics`)).text();
        const now = parseFanoutBuckets(text);
        const before = previous.get(node.port) ?? new Map();
        previous.set(node.port, now);
        const data: FanoutData = { task: new Histogram().toJSON(), user: toHistogram('user', now, before), project: toHistogram('project', now, before) };
        return data;
      }),
    );
}

/** One kind's bucket counts between two reads, as a histogram in microseconds. */
export function toHistogram(kind: string, now: Cumulative, before: Cumulative): FanoutData['user'] {
  const bounds = [...now.keys()]
    .filter((key) => key.startsWith(`${kind} `))
    .map((key) => key.slice(kind.length + 1))
    .sort((a, b) => upper(a) - upper(b));
  const histogram = new Histogram();
  let below = 0;
  let lastFinite = 0;
  for (const le of bounds) {
    const cumulative = (now.get(`${kind} ${le}`) ?? 0) - (before.get(`${kind} ${le}`) ?? 0);
    const inBucket = cumulative - below;
    below = cumulative;
    const micros = Number.isFinite(upper(le)) ? upper(le) * 1e6 : lastFinite * 2;
    if (Number.isFinite(upper(le))) lastFinite = micros;
    for (let i = 0; i < inBucket; i++) histogram.record(micros);
  }
  return histogram.toJSON();
}

function upper(le: string): number {
  return le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
}
