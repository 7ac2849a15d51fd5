/** The open-loop HTTP load generator against a local server that answers some requests late. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTsProcess } from '@taskpulse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Histogram, type HistogramData } from '../src/stats/histogram';
import { repoFile } from '../src/systems/system';

describe('http-open-loop', () => {
  let url = '';
  let answered = 0;
  const server = createServer((request, response) => {
    const body = JSON.stringify({ path: request.url });
    // every 20th request waits 60 ms: an open loop keeps offering the rate and the wait shows in the tail
    const delay = ++answered % 20 === 0 ? 60 : 0;
    setTimeout(() => response.writeHead(request.url === '/missing' ? 404 : 200, { 'content-type': 'application/json' }).end(body), delay);
  });

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('serves the offered rate whatever some answers take, and the late ones show in the tail', async () => {
    const load = startTsProcess(repoFile('bench/src/loadgen/http-open-loop.ts').path, {
      TARGET_URL: url,
      PATHS: JSON.stringify(['/a', '/b', '/missing']),
      RATE: '600',
      SECONDS: '1.5',
      WARMUP_SECONDS: '0.3',
      MAX_SOCKETS: '64',
    });
    try {
      const line = await load.waitForOutput(/RESULT .*/, 20_000);
      const r = JSON.parse(line.slice('RESULT '.length)) as { served: number; latency: HistogramData; non2xx: number; unanswered: number; errors: number };
      expect(r.served).toBeGreaterThanOrEqual(570);
      expect(r.served).toBeLessThanOrEqual(630);
      expect(r.unanswered).toBe(0);
      expect(r.errors).toBe(0);
      expect(r.non2xx).toBeGreaterThan(0); // a third of the paths answer 404: counted apart, not in the latency
      const latency = Histogram.from(r.latency);
      expect(latency.count).toBeGreaterThan(500);
      expect(latency.percentile(50)).toBeLessThan(30_000);
      expect(latency.percentile(99)).toBeGreaterThanOrEqual(60_000);
    } finally {
      await load.stop();
    }
  });

  it('counts latency from the scheduled send time: a client stalled for 200 ms shows it in its tail and its stall figures', async () => {
    const load = startTsProcess(repoFile('bench/src/loadgen/http-open-loop.ts').path, {
      TARGET_URL: url,
      PATHS: JSON.stringify(['/a']),
      RATE: '400',
      PHASE: '0.5',
      SECONDS: '1.5',
      WARMUP_SECONDS: '0.3',
      MAX_SOCKETS: '64',
    });
    try {
      await load.waitForOutput(/MEASURING/, 20_000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      // the client cannot send while stopped: the requests due meanwhile must still count from their due time
      process.kill(load.child.pid!, 'SIGSTOP');
      await new Promise((resolve) => setTimeout(resolve, 200));
      process.kill(load.child.pid!, 'SIGCONT');
      const line = await load.waitForOutput(/RESULT .*/, 20_000);
      const r = JSON.parse(line.slice('RESULT '.length)) as { served: number; latency: HistogramData; clientLagMs: number; loopDelayMaxMs: number; gcCount: number };
      expect(r.served).toBeGreaterThanOrEqual(380);
      expect(r.clientLagMs).toBeGreaterThanOrEqual(150);
      expect(r.loopDelayMaxMs).toBeGreaterThanOrEqual(150);
      const latency = Histogram.from(r.latency);
      expect(latency.max).toBeGreaterThanOrEqual(150_000);
      // about 80 of the 600 requests were due during the stall: well above the 1 % tail
      expect(latency.percentile(99)).toBeGreaterThanOrEqual(60_000);
    } finally {
      await load.stop();
    }
  });
});
