/**
 * S1 with subscribed connections: what a product's connections cost. A fresh node, `tasks` started tasks,
 * and the first S1 step's number of connections, each subscribed to `tasksEach` of them (10 subscribers
 * per task with one task each, as in S2); the node's resident memory growth per 1,000 connections after
 * they settled, beside the idle figure of S1.
 */
import { startRedisServer } from '@taskpulse/testkit';
import { sleep } from '../clock';
import type { ConnSpec, TaskOwner } from '../control/commands';
import { serverRssBytes } from '../proc/proc-stats';
import { type PassContext, mb } from './context';
import { Fleet } from './fleet';
import type { S1Subscribed } from './results';

/** Opens subscribed connections on a fresh node of the pass's system and reads its memory. */
export async function runS1Subscribed(ctx: PassContext, tasksEach: number): Promise<S1Subscribed> {
  const { config, driver } = ctx;
  const connections = Math.min(config.s1.steps[0]!, ctx.maxConnections);
  const taskCount = Math.max(1, Math.ceil(connections / config.s2.fanout));
  const redis = await startRedisServer();
  const prefix = `bench${ctx.run}s`;
  const system = await driver.start({ redisUrl: redis.url, prefix, nodes: 1 }).catch(async (error: unknown) => {
    await redis.stop();
    throw error;
  });
  let fleet: Fleet | undefined;
  try {
    fleet = await Fleet.start({ hub: ctx.hub, tag: `${driver.name}-r${ctx.run}-s1t${tasksEach}`, system: driver.name, redisUrl: redis.url, prefix, loadgens: config.loadgens, publishers: 1 });
    const conns: ConnSpec[] = [];
    for (let i = 0; i < connections; i++) {
      const tasks = Array.from({ length: tasksEach }, (_, k) => `t${(i * tasksEach + k) % taskCount}`);
      conns.push([0, `s1-u${i}`, `s1-p${i % 100}`, tasks]);
    }
    // Each task belongs to the user and project of its first subscriber, so the subscribe holds where a gateway checks ownership.
    const owners: TaskOwner[] = Array.from({ length: taskCount }, (_, j) => {
      const first = conns.find(([, , , tasks]) => tasks.includes(`t${j}`)) ?? conns[0]!;
      return [`t${j}`, first[1], first[2]];
    });
    const started = await fleet.publishers[0]!.peer.call('startTasks', { tasks: owners }, 120_000);
    if (started.errors > 0) throw new Error(`starting ${owners.length} tasks failed ${started.errors} times`);
    await sleep(config.s1.settleMs);
    const node = system.nodePids[0]!;
    const baseline = serverRssBytes(node);
    const result = await fleet.connect(system.wire, system.nodes, conns, config.connectConcurrency, 20_000, Math.max(30_000, config.s1.maxSeconds * 1000));
    await sleep(config.s1.settleMs);
    const rss = serverRssBytes(node);
    const rssPer1kKB = result.opened > 0 ? Math.round(((rss - baseline) / result.opened / 1.024) * 10) / 10 : Number.NaN;
    ctx.log(`S1 ${driver.name}: ${result.opened} connections with ${tasksEach} task(s) each in ${result.elapsedMs} ms (${result.failed} failed), node RSS ${mb(rss)} MB, ${rssPer1kKB} KB per 1,000`);
    return { tasksEach, connections: result.opened, failed: result.failed, elapsedMs: result.elapsedMs, rssPer1kKB, rssMB: mb(rss), errors: result.errors };
  } finally {
    await fleet?.stop();
    await system.stop();
    await redis.stop();
  }
}
