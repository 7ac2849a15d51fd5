/**
 * Where a tail comes from, read beside an S2 window: each gateway node's garbage collection and event-loop
 * delay (prom-client's default metrics on its /metrics: the GC histogram is cumulative, the loop-delay
 * figures cover the time since the previous scrape), and Redis's time per command (INFO commandstats),
 * whose EVALSHA/EVAL line is the publish script. Systems without a /metrics (the peers) give no node figures.
 */
import { Cluster, Redis } from 'ioredis';
import { clusterNodeOptions, isRedisClusterUrl, parseRedisClusterUrl } from '@taskpulse/engine';
import { PROM_LOOP_RESOLUTION_MS } from './api-latency-probe';

/** One node's cumulative GC figures. */
interface GcTotals {
  seconds: number;
  count: number;
}

/** Redis command statistics: calls and microseconds by command. */
type CommandStats = Record<string, { calls: number; usec: number }>;

/** What the probes saw over a window. */
export interface ServerProbeReport {
  /** Milliseconds of GC pause summed over the nodes, and the number of collections. */
  gcMs: number;
  gcCount: number;
  /** The largest p99 and max event-loop delay of any node over the window, ms. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** Redis microseconds per call of the publish script (EVALSHA and EVAL together) and its calls per second. */
  scriptUsecPerCall: number;
  scriptCallsPerSec: number;
  /** Redis microseconds per second spent on all commands: its busy share, in % of one core. */
  redisCommandPercent: number;
}

function metricValue(text: string, name: string, labels = ''): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || line.startsWith('#')) continue;
    const rest = line.slice(name.length);
    if (!(rest.startsWith(' ') || rest.startsWith('{'))) continue;
    if (labels && !rest.includes(labels)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    found = true;
  }
  return found ? sum : Number.NaN;
}

async function scrape(node: string): Promise<string | undefined> {
  try {
    const response = await fetch(`${node.replace(/^ws/, 'http')}/metrics`, { signal: AbortSignal.timeout(2000) });
    return response.ok ? await response.text() : undefined;
  } catch {
    return undefined;
  }
}

async function commandStats(redis: Redis): Promise<CommandStats> {
  const text = await redis.info('commandstats');
  const stats: CommandStats = {};
  for (const match of text.matchAll(/^cmdstat_([a-z|_-]+):calls=(\d+),usec=(\d+)/gm)) stats[match[1]!] = { calls: Number(match[2]), usec: Number(match[3]) };
  return stats;
}

/** Reads INFO commandstats of the run's Redis: one server, or summed over a Redis Cluster's masters. */
async function openCommandStats(redisUrl: string): Promise<{ read(): Promise<CommandStats>; close(): void }> {
  if (!isRedisClusterUrl(redisUrl)) {
    const redis = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 1 });
    return { read: () => commandStats(redis), close: () => redis.disconnect() };
  }
  const target = parseRedisClusterUrl(redisUrl);
  const cluster = new Cluster(target.nodes, { redisOptions: clusterNodeOptions(target) });
  await new Promise<void>((resolve, reject) => {
    cluster.once('ready', () => resolve());
    cluster.once('error', reject);
  });
  return {
    async read() {
      const summed: CommandStats = {};
      for (const stats of await Promise.all(cluster.nodes('master').map(commandStats))) {
        for (const [name, { calls, usec }] of Object.entries(stats)) {
          const into = (summed[name] ??= { calls: 0, usec: 0 });
          into.calls += calls;
          into.usec += usec;
        }
      }
      return summed;
    },
    close: () => cluster.disconnect(),
  };
}

/** Probes started before a window; `stop` reads them after it. */
export async function startServerProbes(nodes: string[], redisUrl: string): Promise<{ stop(): Promise<ServerProbeReport> }> {
  const redis = await openCommandStats(redisUrl);
  const gcOf = (text: string | undefined): GcTotals | undefined =>
    text === undefined ? undefined : { seconds: metricValue(text, 'taskpulse_nodejs_gc_duration_seconds_sum'), count: metricValue(text, 'taskpulse_nodejs_gc_duration_seconds_count') };
  // A scrape now also restarts the nodes' loop-delay figures, so the next one covers the window only.
  const before = (await Promise.all(nodes.map(scrape))).map(gcOf);
  const redisBefore = await redis.read();
  const t0 = performance.now();
  return {
    async stop() {
      const texts = await Promise.all(nodes.map(scrape));
      const redisAfter = await redis.read();
      const seconds = (performance.now() - t0) / 1000;
      redis.close();
      let gcMs = 0;
      let gcCount = 0;
      let loopDelayP99Ms = Number.NaN;
      let loopDelayMaxMs = Number.NaN;
      texts.forEach((text, i) => {
        const a = before[i];
        const b = gcOf(text);
        if (!text || !a || !b) return;
        gcMs += (b.seconds - a.seconds) * 1000;
        gcCount += b.count - a.count;
        const p99 = metricValue(text, 'taskpulse_nodejs_eventloop_lag_p99_seconds') * 1000;
        const max = metricValue(text, 'taskpulse_nodejs_eventloop_lag_max_seconds') * 1000;
        loopDelayP99Ms = Number.isNaN(loopDelayP99Ms) ? p99 : Math.max(loopDelayP99Ms, p99);
        loopDelayMaxMs = Number.isNaN(loopDelayMaxMs) ? max : Math.max(loopDelayMaxMs, max);
      });
      const delta = (name: string) => ({
        calls: (redisAfter[name]?.calls ?? 0) - (redisBefore[name]?.calls ?? 0),
        usec: (redisAfter[name]?.usec ?? 0) - (redisBefore[name]?.usec ?? 0),
      });
      const script = [delta('evalsha'), delta('eval')].reduce((a, d) => ({ calls: a.calls + d.calls, usec: a.usec + d.usec }), { calls: 0, usec: 0 });
      const allUsec = Object.keys(redisAfter).reduce((a, name) => a + delta(name).usec, 0);
      const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;
      return {
        gcMs: texts.some(Boolean) ? round(gcMs, 1) : Number.NaN,
        gcCount: texts.some(Boolean) ? gcCount : Number.NaN,
        // prom-client's figures include its 10 ms sampling interval: the delay is what lies beyond it
        loopDelayP99Ms: round(Math.max(0, loopDelayP99Ms - PROM_LOOP_RESOLUTION_MS)),
        loopDelayMaxMs: round(Math.max(0, loopDelayMaxMs - PROM_LOOP_RESOLUTION_MS)),
        scriptUsecPerCall: script.calls > 0 ? round(script.usec / script.calls, 1) : Number.NaN,
        scriptCallsPerSec: Math.round(script.calls / seconds),
        redisCommandPercent: round((allUsec / 1e6 / seconds) * 100, 1),
      };
    },
  };
}
