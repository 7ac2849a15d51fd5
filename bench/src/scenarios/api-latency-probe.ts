/**
 * The API's own view of a read window: its request-duration histogram (taskpulse_api_http_request_duration_seconds
 * on /metrics, cumulative Prometheus buckets) scraped before and after, so the report can set the server's p99
 * beside the client's. Bucket bounds make it an upper bound ("p99 <= 2.5 ms"), not an exact figure. The same
 * scrapes give the API's GC (cumulative) and event-loop delay (prom-client resets it at every scrape, so the
 * second scrape covers the window): where a server tail comes from.
 */

const METRIC = 'taskpulse_api_http_request_duration_seconds_bucket';
/**
 * prom-client samples the loop every 10 ms (its default precision) and Node's histogram records the whole
 * sampling interval, so an idle loop reads 10 ms: the delay is what lies beyond it.
 */
/** prom-client's loop sampling interval, ms: an idle loop reads this much. */
export const PROM_LOOP_RESOLUTION_MS = 10;

/** Cumulative bucket counts by upper bound (seconds; Infinity for +Inf), 2xx answers of every route summed. */
export type BucketCounts = Map<number, number>;

/** What the server saw over a window: answers counted and their p99 as the bucket bound that holds it (ms). */
export interface ServerLatency {
  count: number;
  p99UpToMs: number;
  p50UpToMs: number;
}

/** One scrape of the API: the route's buckets, cumulative GC, and the event-loop delay since the last scrape. */
export interface ApiScrape {
  buckets: BucketCounts;
  gcSeconds: number;
  gcCount: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

/** What the API's own figures say about a window: its latency, GC pauses and event-loop delay. */
export interface ServerWindow extends ServerLatency {
  gcMs: number;
  gcCount: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

/** Scrapes the API's /metrics for one route pattern (e.g. `/api/v1/progress/:task_id`). */
export async function scrapeApi(apiUrl: string, route: string): Promise<ApiScrape> {
  const response = await fetch(`${apiUrl}/metrics`, { signal: AbortSignal.timeout(3000) });
  if (!response.ok) throw new Error(`GET ${apiUrl}/metrics answered ${response.status}`);
  const text = await response.text();
  return {
    buckets: parseRequestBuckets(text, route),
    gcSeconds: metricSum(text, 'taskpulse_nodejs_gc_duration_seconds_sum'),
    gcCount: metricSum(text, 'taskpulse_nodejs_gc_duration_seconds_count'),
    loopDelayP99Ms: metricSum(text, 'taskpulse_nodejs_eventloop_lag_p99_seconds') * 1000,
    loopDelayMaxMs: metricSum(text, 'taskpulse_nodejs_eventloop_lag_max_seconds') * 1000,
  };
}

/** The window between two scrapes, figures rounded to 0.1 ms. */
export function apiWindow(before: ApiScrape, after: ApiScrape): ServerWindow {
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return {
    ...serverLatencyBetween(before.buckets, after.buckets),
    gcMs: round((after.gcSeconds - before.gcSeconds) * 1000),
    gcCount: after.gcCount - before.gcCount,
    loopDelayP99Ms: round(Math.max(0, after.loopDelayP99Ms - PROM_LOOP_RESOLUTION_MS)),
    loopDelayMaxMs: round(Math.max(0, after.loopDelayMaxMs - PROM_LOOP_RESOLUTION_MS)),
  };
}

/** A metric's value summed over its label sets (NaN when absent). */
function metricSum(text: string, name: string): number {
  let sum = Number.NaN;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!rest.startsWith(' ') && !rest.startsWith('{')) continue;
    sum = (Number.isNaN(sum) ? 0 : sum) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** Parses the 2xx buckets of one route out of a Prometheus text exposition. */
export function parseRequestBuckets(text: string, route: string): BucketCounts {
  const counts: BucketCounts = new Map();
  for (const line of text.split('\n')) {
    if (!line.startsWith(METRIC)) continue;
    if (!line.includes(`route="${route}"`) || !/status_code="2\d\d"/.test(line)) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (!le) continue;
    const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
    counts.set(bound, (counts.get(bound) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return counts;
}

/** The window's latency from two cumulative scrapes: the smallest bucket bound holding 50 % and 99 % of the answers. */
export function serverLatencyBetween(before: BucketCounts, after: BucketCounts): ServerLatency {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const inWindow = bounds.map((bound) => [bound, (after.get(bound) ?? 0) - (before.get(bound) ?? 0)] as const);
  const count = inWindow.at(-1)?.[1] ?? 0;
  const upTo = (share: number): number => {
    const hit = inWindow.find(([, n]) => n >= count * share);
    return hit ? hit[0] * 1000 : Number.NaN;
  };
  return { count, p50UpToMs: upTo(0.5), p99UpToMs: upTo(0.99) };
}
