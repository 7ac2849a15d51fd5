/**
 * S1, connections: one node, idle connections ramped in steps (10,000 first, then on while the node and
 * the time budget hold); the connect rate, and the node's resident memory per 1,000 idle connections.
 */
import { startRedisServer } from '@taskpulse/testkit';
import { sleep } from '../clock';
import type { ConnSpec } from '../control/commands';
import { startCpuMeter, type CpuReport } from '../proc/cpu-meter';
import { serverRssBytes } from '../proc/proc-stats';
import { type PassContext, mb } from './context';
import { Fleet } from './fleet';
import type { S1Result, S1Step } from './results';

/** Runs the connection ramp on a fresh node of the pass's system. */
export async function runS1(ctx: PassContext): Promise<S1Result> {
  const { config, driver } = ctx;
  const redis = await startRedisServer();
  const prefix = `bench${ctx.run}`;
  const system = await driver.start({ redisUrl: redis.url, prefix, nodes: 1 });
  let fleet: Fleet | undefined;
  try {
    fleet = await Fleet.start({ hub: ctx.hub, tag: `${driver.name}-r${ctx.run}-s1`, system: driver.name, redisUrl: redis.url, prefix, loadgens: config.loadgens, publishers: 0 });
    const processes = [...system.processes, ...fleet.processes, ctx.self, { label: 'redis', group: 'redis' as const, pid: redis.process.pid! }];
    await sleep(config.s1.settleMs);
    const node = system.nodePids[0]!;
    const baseline = serverRssBytes(node);
    const steps: Record<string, S1Step> = {};
    const rssAt = new Map<number, number>();
    const errors: string[] = [];
    const t0 = performance.now();
    let held = 0;
    let cpu: CpuReport | undefined;
    let stoppedBecause = 'reached the last step';
    let idleCpuPct: number | undefined;
    let idleCpuHeld = 0;
    // A node holds at most maxConnections (its open-files limit): the ramp ends with a step to that limit.
    const targets = config.s1.steps.filter((t) => t < ctx.maxConnections);
    if (targets.length < config.s1.steps.length) targets.push(ctx.maxConnections);
    for (const target of targets) {
      if ((performance.now() - t0) / 1000 > config.s1.maxSeconds) {
        stoppedBecause = `time budget of ${config.s1.maxSeconds} s`;
        break;
      }
      const conns: ConnSpec[] = [];
      for (let i = held; i < target; i++) conns.push([0, `s1-u${i}`, `s1-p${i % 100}`, []]);
      const meter = cpu ? null : startCpuMeter(processes);
      const remainingMs = Math.max(5000, config.s1.maxSeconds * 1000 - (performance.now() - t0));
      const result = await fleet.connect(system.wire, system.nodes, conns, config.connectConcurrency, 15_000, remainingMs);
      if (meter) cpu = meter.stop();
      held += result.opened;
      errors.push(...result.errors);
      await sleep(config.s1.settleMs);
      const rss = serverRssBytes(node);
      rssAt.set(target, rss);
      if (idleCpuPct === undefined && held > 0) {
        // the node's own CPU while its connections sit idle (pings, session upkeep, timers): capacity input
        const idle = startCpuMeter(system.processes);
        await sleep(config.s1.idleCpuMs);
        idleCpuPct = idle.stop().byGroup.server ?? Number.NaN;
        idleCpuHeld = held;
      }
      steps[String(target)] = {
        target,
        held,
        failed: result.failed,
        elapsedMs: result.elapsedMs,
        ratePerSec: Math.round((result.opened / result.elapsedMs) * 1000),
        rssMB: mb(rss),
      };
      ctx.log(`S1 ${driver.name}: ${held} open (+${result.opened} in ${result.elapsedMs} ms, ${result.failed} failed), node RSS ${mb(rss)} MB`);
      if (result.failed > Math.max(10, conns.length * 0.01)) {
        stoppedBecause = `connection failures at ${target}: ${result.errors[0] ?? ''}`;
        break;
      }
    }
    if (targets.length < config.s1.steps.length && stoppedBecause === 'reached the last step') {
      stoppedBecause = `the open-files limit: a process may hold ${ctx.maxConnections + 1000} descriptors (the hard limit here; raising it needs CAP_SYS_RESOURCE)`;
    }
    const first = steps[String(targets[0])];
    const last = Object.values(steps).at(-1);
    // KB of node memory per 1,000 connections = bytes per connection / 1.024.
    const per1k = (step: S1Step | undefined) =>
      step && step.held > 0 ? Math.round((((rssAt.get(step.target) ?? 0) - baseline) / step.held / 1.024) * 10) / 10 : Number.NaN;
    return {
      steps,
      connectRatePerSec: first?.ratePerSec ?? Number.NaN,
      maxHeld: held,
      baselineRssMB: mb(baseline),
      rssPer1kIdleKB: per1k(first),
      rssPer1kIdleAtMaxKB: per1k(last),
      rssMarginalPer1kKB:
        first && last && last.held > first.held
          ? Math.round(((rssAt.get(last.target)! - rssAt.get(first.target)!) / (last.held - first.held) / 1.024) * 10) / 10
          : Number.NaN,
      stoppedBecause,
      idleCpuPct: idleCpuPct ?? Number.NaN,
      idleCpuPer1kPct: idleCpuPct !== undefined && idleCpuHeld > 0 ? Math.round((idleCpuPct / idleCpuHeld) * 1000 * 100) / 100 : Number.NaN,
      cpu: cpu ?? startCpuMeter([]).stop(),
      errors: [...new Set(errors)].slice(0, 5),
    };
  } finally {
    await fleet?.stop();
    await system.stop();
    await redis.stop();
  }
}
