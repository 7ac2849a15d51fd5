/**
 * An HTTP load-generator process for S4: autocannon with a fixed number of connections against one
 * endpoint, rotating over the task ids given. Latency is recorded per response at microsecond resolution
 * (autocannon's own histogram rounds to whole milliseconds, too coarse for a 5 ms target). Prints
 * `MEASURING` when the warm-up is over and one `RESULT {json}` line at the end.
 */
import autocannon from 'autocannon';
import { Histogram } from '../stats/histogram';

const url = process.env.TARGET_URL ?? '';
const paths = JSON.parse(process.env.PATHS ?? '[]') as string[];
const connections = Number(process.env.CONNECTIONS ?? 100);
const seconds = Number(process.env.SECONDS ?? 5);
const warmupSeconds = Number(process.env.WARMUP_SECONDS ?? 1);

let next = 0;
const latency = new Histogram();
const instance = autocannon({
  url,
  connections,
  duration: seconds,
  warmup: { connections, duration: warmupSeconds },
  renderProgressBar: false,
  requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: paths[next++ % paths.length]! }) }],
});
instance.once('start', () => process.stdout.write('MEASURING\n'));
instance.on('response', (_client: unknown, statusCode: number, _bytes: number, ms: number) => {
  if (statusCode >= 200 && statusCode < 300) latency.record(ms * 1000);
});
const result = await instance;
process.stdout.write(
  `RESULT ${JSON.stringify({ rps: Math.round(result.requests.total / (result.duration || seconds)), latency: latency.toJSON(), non2xx: result.non2xx, errors: result.errors + result.timeouts })}\n`,
);
