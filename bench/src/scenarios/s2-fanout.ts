/**
 * S2, fan-out: the connections of the layout over two nodes, tasks with `fanout` subscribers each, and
 * events published at stepped offered rates. Per level: delivered frames per second and the latency from
 * the publisher's call to each client's receive; warm-up excluded by a measured window. Levels stop once
 * the system is saturated (under 90 % delivered in time, or p99 above 1 s): higher ones only queue more.
 */
import { nowMicros, sleep } from '../clock';
import { startCpuMeter, type TrackedProcess } from '../proc/cpu-meter';
import { Histogram, summarize } from '../stats/histogram';
import { median } from '../stats/median';
import { startServerProbes } from './server-probes';
import type { RunningSystem } from '../systems/system';
import type { PassContext } from './context';
import type { Fleet } from './fleet';
import type { Layout } from './layout';
import type { S2Level, S2Result } from './results';

/** The connected system and clients that S2, S3 and S4 share. */
export interface FanoutEnv {
  system: RunningSystem;
  fleet: Fleet;
  layout: Layout;
  processes: TrackedProcess[];
  connect: S2Result['connect'];
  /** The pass's Redis, for its command statistics. */
  redisUrl: string;
}

/** Runs the offered-load levels on the pass's connections. */
export async function runS2(ctx: PassContext, env: FanoutEnv): Promise<S2Result> {
  const { s2 } = ctx.config;
  const { fleet, layout } = env;
  const subscribersRatio = env.connect.opened / layout.conns.length;
  const levels: Record<string, S2Level> = {};
  let maxDeliveredPerSec = 0;
  let stoppedBecause = 'reached the last level';
  for (const offered of s2.levels) {
    await fleet.quiesce();
    const events = offered / s2.fanout;
    const windowStart = nowMicros() + (s2.warmupMs + 200) * 1000;
    const windowEnd = windowStart + s2.windowMs * 1000;
    await fleet.measure('stream', windowStart, windowEnd);
    const P = fleet.publishers.length;
    const publishing = Promise.all(
      fleet.publishers.map((m, p) =>
        m.peer.call(
          'stream',
          { rate: events / P, tasks: layout.tasks.filter((_, j) => j % P === p), windowStart, windowEnd, maxInflight: s2.maxInflight },
          s2.warmupMs + s2.windowMs + 30_000,
        ),
      ),
    );
    await sleep((windowStart - nowMicros()) / 1000);
    // The probes' first scrape (ours only: the peers have no /metrics) renders every metric, an open-file
    // count of the node's sockets included; taken before the CPU window so ours is not charged for it.
    const probes = await startServerProbes(env.system.nodes, env.redisUrl);
    const meter = startCpuMeter(env.processes);
    await sleep((windowEnd - nowMicros()) / 1000);
    const cpu = meter.stop();
    const server = await probes.stop();
    const sent = await publishing;
    await sleep(s2.drainMs);
    const collected = await fleet.collect();
    await fleet.measure('off', 0, 0);
    const latency = new Histogram();
    for (const c of collected) latency.merge(c.latency);
    const p99ByTenth: Record<string, number> = {};
    for (let t = 0; t < 10; t++) {
      const tenth = new Histogram();
      for (const c of collected) if (c.latencyTenths[t]) tenth.merge(c.latencyTenths[t]!);
      p99ByTenth[String(t + 1)] = summarize(tenth).p99;
    }
    const steady = Object.entries(p99ByTenth).filter(([t, v]) => t !== '1' && Number.isFinite(v)).map(([, v]) => v);
    const seconds = s2.windowMs / 1000;
    const sentInWindow = sent.reduce((a, r) => a + r.sentInWindow, 0);
    const delivered = collected.reduce((a, c) => a + c.delivered, 0);
    const expected = sentInWindow * s2.fanout * subscribersRatio;
    const level: S2Level = {
      offered,
      offeredEventsPerSec: events,
      achievedEventsPerSec: Math.round(sentInWindow / seconds),
      deliveredPerSec: Math.round(delivered / seconds),
      receivedPerSec: Math.round(collected.reduce((a, c) => a + c.receivedInWindow, 0) / seconds),
      deliveredRatio: expected > 0 ? Math.round((delivered / expected) * 1000) / 1000 : 0,
      latency: summarize(latency),
      p99ByTenth,
      p99TenthsMedian: median(steady),
      p99TenthsMax: steady.length ? Math.max(...steady) : Number.NaN,
      cpu,
      server,
      publisherLagMs: Math.max(...sent.map((r) => r.maxLagMs)),
      publisherErrors: sent.reduce((a, r) => a + r.errors, 0),
      lostConnections: collected.reduce((a, c) => a + c.lost, 0),
      loadgenStallMs: Math.max(...collected.map((c) => c.stallMs)),
      saturated: 0,
    };
    const firstError = sent.find((r) => r.firstError)?.firstError;
    ctx.log(
      `S2 ${ctx.driver.name} ${offered}/s: delivered ${level.deliveredPerSec}/s (${(level.deliveredRatio * 100).toFixed(1)}%), ` +
        `p50 ${level.latency.p50} p99 ${level.latency.p99} max ${level.latency.max} ms, p99 per tenth ${Object.values(p99ByTenth).join(' ')} ms, servers ${cpu.byGroup.server ?? 0}% CPU, machine ${cpu.machine}%` +
        `, server GC ${server.gcMs} ms in ${server.gcCount}, loop delay p99 ${server.loopDelayP99Ms} max ${server.loopDelayMaxMs} ms, Redis ${server.scriptUsecPerCall} µs per script, ${server.redisCommandPercent}% busy` +
        (level.lostConnections ? `, ${level.lostConnections} connections lost` : '') +
        (level.loadgenStallMs >= 20 ? `, a load generator stalled ${level.loadgenStallMs} ms` : '') +
        (firstError ? `, publisher error: ${firstError}` : ''),
    );
    maxDeliveredPerSec = Math.max(maxDeliveredPerSec, level.deliveredPerSec);
    if (level.deliveredRatio < 0.9 || level.latency.p99 > 1000) {
      level.saturated = 1;
      levels[String(offered)] = level;
      stoppedBecause = `saturated at ${offered}/s offered`;
      break;
    }
    levels[String(offered)] = level;
  }
  const quiet = await fleet.quiesce(15_000);
  if (quiet > 1000) ctx.log(`S2 ${ctx.driver.name}: backlog drained in ${quiet} ms`);
  return { connect: env.connect, levels, maxDeliveredPerSec, stoppedBecause };
}
