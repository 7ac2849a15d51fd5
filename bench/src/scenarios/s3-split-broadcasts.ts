/**
 * S3 split: the two project broadcasts again, with their receivers alone on a fleet of their own, spread
 * over more load-generator processes (`s3.splitLoadgens`, round-robin) that hold nothing else: no S2
 * connections, no other work. In S3 the 1,000 receivers share 4 client processes that also hold the
 * 10,000 S2 connections, so the time to the last client is mostly the client side's; here it is closer
 * to what the product takes. Runs after S2-S4 on the same server nodes, once their connections are closed.
 */
import type { ConnSpec } from '../control/commands';
import type { PassContext } from './context';
import { Fleet } from './fleet';
import { BIG_PROJECT, PROJECT, SOLO_TASK } from './layout';
import type { S3Case } from './results';
import type { FanoutEnv } from './s2-fanout';
import { runS3 } from './s3-broadcasts';

/** The project audiences only: `bigProjectConnections` then `projectConnections`, alternating nodes. */
export function splitLayout(ctx: PassContext, nodes: number): ConnSpec[] {
  const { bigProjectConnections, projectConnections } = ctx.config.s3;
  return Array.from({ length: bigProjectConnections + projectConnections }, (_, i): ConnSpec => [
    i % nodes,
    `us${i}`,
    i < bigProjectConnections ? BIG_PROJECT : PROJECT,
    [],
  ]);
}

/** Runs the project and big-project probes on a fresh fleet of `s3.splitLoadgens` load generators. */
export async function runS3Split(ctx: PassContext, env: FanoutEnv, redisUrl: string, prefix: string): Promise<Record<string, S3Case>> {
  const { config, driver } = ctx;
  const closed = await env.fleet.closeAll();
  const fleet = await Fleet.start({
    hub: ctx.hub,
    tag: `${driver.name}-r${ctx.run}-s3split`,
    system: driver.name,
    redisUrl,
    prefix,
    loadgens: config.s3.splitLoadgens,
    publishers: 1,
  });
  try {
    const conns = splitLayout(ctx, env.system.nodes.length);
    await fleet.publishers[0]!.peer.call('startTasks', { tasks: [[SOLO_TASK, 'us0', BIG_PROJECT]] });
    const connect = await fleet.connect(env.system.wire, env.system.nodes, conns, config.connectConcurrency, 20_000, 120_000);
    ctx.log(`S3 split ${driver.name}: closed ${closed} S2 connections; ${connect.opened} audience connections over ${config.s3.splitLoadgens} load generators in ${connect.elapsedMs} ms (${connect.failed} failed)`);
    if (connect.opened < conns.length * 0.98) throw new Error(`only ${connect.opened} of ${conns.length} audience connections: ${connect.errors.join('; ')}`);
    const processes = [...env.system.processes, ...fleet.processes, ctx.self, ...env.processes.filter((p) => p.group === 'redis')];
    return await runS3(ctx, { ...env, fleet, processes, connect }, ['project', 'bigProject']);
  } finally {
    await fleet.stop();
  }
}
