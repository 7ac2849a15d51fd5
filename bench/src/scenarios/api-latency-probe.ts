/**
 * The API's own view of a read window: its request-duration histogram (taskpulse_api_http_request_duration_seconds
 * on /metrics, cumulative Prometheus buckets) scraped before and after, so the report can set the server's p99
 * beside the client's. Bucket bounds make it an upper bound ("p99 <= 2.5 ms"), not an exact figure.
 */

const METRIC = 'taskpulse_api_http_request_duration_seconds_bucket';

/** Cumulative bucket counts by upper bound (seconds; Infinity for +Inf), 2xx answers of every route summed. */
export type BucketCounts = Map<number, number>;

/** What the server saw over a window: answers counted and their p99 as the bucket bound that holds it (ms). */
export interface ServerLatency {
  count: number;
  p99UpToMs: number;
  p50UpToMs: number;
}

/** Reads the API's request-duration buckets for one route pattern (e.g. `/api/v1/progress/:taskId`). */
export async function readRequestBuckets(apiUrl: string, route: string): Promise<BucketCounts> {
  const response = await fetch(`${apiUrl}/metrics`, { signal: AbortSignal.timeout(3000) });
  if (!response.ok) throw new Error(`GET ${apiUrl}/metrics answered ${response.status}`);
  return parseRequestBuckets(await response.text(), route);
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
