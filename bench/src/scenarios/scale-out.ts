/**
 * Scale-out: 1, 2 and 4 gateway processes on one Redis, the same load per gateway (connections and
 * offered deliveries/s), one load generator per gateway. Each task's subscribers sit on one gateway
 * (tasks alternate gateways), so adding a gateway adds work that only it does: the ideal case, the one a
 * sticky or task-hashed load balancer gives. Per step: delivered/s, p50/p99, CPU of every process, the
 * speed-up over one gateway, and what bounded the step (on a 2-core machine the cores end it early).
 *
 * The Redis target is a parameter: `single` (a private redis-server) or `cluster` (testkit's 3 masters +
 * 3 replicas, every process on a redis+cluster:// URL), so that one run can
 * give the same table for both.
 */
import * as testkit from '@taskpulse/testkit';
import type { ConnSpec, TaskOwner } from '../control/commands';
import type { TrackedProcess } from '../proc/cpu-meter';
import { describeBound } from '../report/bounds';
import type { PassContext } from './context';
import { Fleet } from './fleet';
import type { Layout } from './layout';
import type { S2Level } from './results';
import { runS2 } from './s2-fanout';

/** Where the gateways' Redis is. */
export type ScaleOutTarget = 'single' | 'cluster';

/** One step: this many gateways, each at the configured load. */
export interface ScaleOutStep {
  target: ScaleOutTarget;
  gateways: number;
  connections: number;
  offered: number;
  level: S2Level;
  /** Delivered/s over the one-gateway step's. */
  speedup: number;
  /** Delivered/s per gateway over the one-gateway step's: 1 is linear. */
  efficiency: number;
  bound: string;
}

/** Connections `perGateway x gateways`; task j's `fanout` subscribers all on gateway j % gateways. */
export function scaleOutLayout(gateways: number, perGateway: number, fanout: number): Layout {
  const connections = perGateway * gateways;
  const tasks = Array.from({ length: Math.ceil(connections / fanout) }, (_, j) => `so${j}`);
  const conns: ConnSpec[] = Array.from({ length: connections }, (_, i) => {
    const task = Math.floor(i / fanout);
    return [task % gateways, `u${i}`, `p${task % 50}`, [tasks[task]!]];
  });
  const owners: TaskOwner[] = tasks.map((t, j) => [t, `u${j * fanout}`, `p${j % 50}`]);
  return { conns, tasks, owners };
}

interface RedisTarget {
  url: string;
  /** Every redis-server process of the target (a cluster's masters and replicas), for the CPU accounting. */
  pids: number[];
  stop(): Promise<void>;
}

async function startTarget(target: ScaleOutTarget): Promise<RedisTarget> {
  if (target === 'single') {
    const redis = await testkit.startRedisServer();
    return { url: redis.url, pids: [redis.process.pid!], stop: () => redis.stop() };
  }
  const cluster = await testkit.startRedisCluster();
  return { url: cluster.url, pids: cluster.servers.map((server) => server.process.pid!), stop: () => cluster.stop() };
}

/** Runs every configured target and gateway count; a failed step is logged and the next one runs. */
export async function runScaleOut(ctx: PassContext): Promise<Record<string, ScaleOutStep>> {
  const { scaleOut } = ctx.config;
  const out: Record<string, ScaleOutStep> = {};
  for (const target of scaleOut.targets) {
    let base: number | undefined;
    for (const gateways of scaleOut.gateways) {
      const step = await runStep(ctx, target, gateways).catch((error: unknown) => {
        ctx.log(`scale-out ${target} x${gateways} failed: ${error instanceof Error ? error.message : String(error)}`);
        return undefined;
      });
      if (!step) continue;
      base ??= gateways === 1 ? step.level.deliveredPerSec : undefined;
      step.speedup = base ? Math.round((step.level.deliveredPerSec / base) * 100) / 100 : Number.NaN;
      step.efficiency = Math.round((step.speedup / gateways) * 100) / 100;
      out[`${target}x${gateways}`] = step;
      ctx.log(
        `scale-out ${target} x${gateways}: offered ${step.offered}/s, delivered ${step.level.deliveredPerSec}/s, p99 ${step.level.latency.p99} ms, ` +
          `speed-up ${step.speedup}, machine ${step.level.cpu.machine}%: ${step.bound}`,
      );
    }
  }
  return out;
}

async function runStep(ctx: PassContext, target: ScaleOutTarget, gateways: number): Promise<ScaleOutStep> {
  const { scaleOut, s2 } = ctx.config;
  const redis = await startTarget(target);
  const prefix = `so${ctx.run}`;
  let fleet: Fleet | undefined;
  const system = await ctx.driver.start({ redisUrl: redis.url, prefix, nodes: gateways }).catch(async (error: unknown) => {
    await redis.stop();
    throw error;
  });
  try {
    fleet = await Fleet.start({
      hub: ctx.hub,
      tag: `${ctx.driver.name}-r${ctx.run}-so-${target}-${gateways}`,
      system: ctx.driver.name,
      redisUrl: redis.url,
      prefix,
      loadgens: gateways * scaleOut.loadgensPerGateway,
      publishers: scaleOut.publishers,
    });
    const layout = scaleOutLayout(gateways, scaleOut.connectionsPerGateway, s2.fanout);
    await fleet.publishers[0]!.peer.call('startTasks', { tasks: layout.owners }, 120_000);
    const connect = await fleet.connect(system.wire, system.nodes, layout.conns, ctx.config.connectConcurrency, 20_000, 120_000);
    if (connect.opened < layout.conns.length * 0.95) throw new Error(`only ${connect.opened} of ${layout.conns.length} connections: ${connect.errors.join('; ')}`);
    const processes: TrackedProcess[] = [...system.processes, ...fleet.processes, ctx.self, ...redis.pids.map((pid, i) => ({ label: `redis-${i}`, group: 'redis' as const, pid }))];
    const offered = scaleOut.deliveriesPerGateway * gateways;
    const config = { ...ctx.config, s2: { ...s2, levels: [offered] } };
    const result = await runS2({ ...ctx, config }, { system, fleet, layout, processes, connect, redisUrl: redis.url });
    const level = result.levels[String(offered)];
    if (!level) throw new Error('no measurement');
    const bound = describeBound(level.cpu, {
      publisherLagMs: level.publisherLagMs,
      achievedRatio: level.achievedEventsPerSec / level.offeredEventsPerSec,
      loadgenStallMs: level.loadgenStallMs,
    });
    return { target, gateways, connections: connect.opened, offered, level, speedup: Number.NaN, efficiency: Number.NaN, bound };
  } finally {
    await fleet?.stop();
    await system.stop();
    await redis.stop();
  }
}
