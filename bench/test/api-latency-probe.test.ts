/** The API-side p99 read from two scrapes of its cumulative request-duration buckets. */
import { describe, expect, it } from 'vitest';
import { parseRequestBuckets, serverLatencyBetween } from '../src/scenarios/api-latency-probe';

const ROUTE = '/api/v1/progress/:task_id';
const scrape = (counts: Record<string, number>, otherRoute = 0, errors = 0) =>
  [
    '# TYPE taskpulse_api_http_request_duration_seconds histogram',
    ...Object.entries(counts).map(([le, n]) => `taskpulse_api_http_request_duration_seconds_bucket{le="${le}",method="GET",route="${ROUTE}",status_code="200"} ${n}`),
    `taskpulse_api_http_request_duration_seconds_bucket{le="+Inf",method="GET",route="${ROUTE}/history",status_code="200"} ${otherRoute}`,
    `taskpulse_api_http_request_duration_seconds_bucket{le="0.001",method="GET",route="${ROUTE}",status_code="404"} ${errors}`,
    `taskpulse_api_http_request_duration_seconds_count{method="GET",route="${ROUTE}",status_code="200"} 1`,
  ].join('\n');

describe('api-latency-probe', () => {
  it('takes the window from the difference of two scrapes, 2xx of the one route only', () => {
    const before = parseRequestBuckets(scrape({ '0.001': 500, '0.0025': 900, '0.005': 1000, '+Inf': 1000 }, 50, 7), ROUTE);
    // in the window: 1,000 answers, 900 under 1 ms, 85 more under 2.5 ms, 14 under 5 ms and 1 slower
    const after = parseRequestBuckets(scrape({ '0.001': 1400, '0.0025': 1885, '0.005': 1999, '+Inf': 2000 }, 900, 90), ROUTE);
    const window = serverLatencyBetween(before, after);
    expect(window.count).toBe(1000);
    expect(window.p50UpToMs).toBe(1);
    expect(window.p99UpToMs).toBe(5);
  });

  it('gives NaN, not a figure, when the route had no answers', () => {
    const empty = serverLatencyBetween(new Map(), parseRequestBuckets('', ROUTE));
    expect(empty.count).toBe(0);
    expect(empty.p99UpToMs).toBeNaN();
  });
});
