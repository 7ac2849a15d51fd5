/**
 * One pass of one system: S1 on a node of its own, then S3, S2 and (ours) S4 on two fresh nodes with one
 * set of connections. S3 runs before S2 because S2 ends by overloading the system on purpose, which may
 * cost connections (slow consumers) that S3's broadcast audiences need. Every process is started here and stopped here, on success or failure; a failure
 * is recorded with the pass rather than thrown, so the other systems still run.
 */
import { startRedisServer } from '@taskpulse/testkit';
import type { TrackedProcess } from '../proc/cpu-meter';
import type { PassContext } from './context';
import { Fleet } from './fleet';
import { fanoutLayout } from './layout';
import type { PassResult } from './results';
import { runS1 } from './s1-connections';
import { runS1Subscribed } from './s1-subscribed';
import { runS2, type FanoutEnv } from './s2-fanout';
import { runS3 } from './s3-broadcasts';
import { runS3Split } from './s3-split-broadcasts';
import { runS4 } from './s4-reads';
import { runScaleOut } from './scale-out';

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Runs S1-S4 for one system; errors are recorded in the result. */
export async function runPass(ctx: PassContext): Promise<PassResult> {
  const t0 = performance.now();
  const result: PassResult = { system: ctx.driver.name, run: ctx.run, seconds: 0, errors: [] };
  try {
    if (ctx.scenarios.has('s1')) result.s1 = await runS1(ctx);
  } catch (error) {
    result.errors.push(`S1: ${message(error)}`);
    ctx.log(`S1 ${ctx.driver.name} failed: ${message(error)}`);
  }
  for (const tasksEach of ctx.scenarios.has('s1') ? ctx.config.s1.subscribedTasks : []) {
    try {
      (result.s1Subscribed ??= {})[String(tasksEach)] = await runS1Subscribed(ctx, tasksEach);
    } catch (error) {
      result.errors.push(`S1 subscribed (${tasksEach} tasks each): ${message(error)}`);
      ctx.log(`S1 subscribed ${ctx.driver.name} failed: ${message(error)}`);
    }
  }
  try {
    if (['s2', 's3', 's3split', 's4'].some((s) => ctx.scenarios.has(s))) await runFanoutScenarios(ctx, result);
  } catch (error) {
    result.errors.push(`S2-S4: ${message(error)}`);
    ctx.log(`S2-S4 ${ctx.driver.name} failed: ${message(error)}`);
  }
  try {
    // once per run (the first pass): a minute of its own, and its figure is a ratio within one pass
    if (ctx.scenarios.has('scaleout') && ctx.driver.name === 'ours' && ctx.run === 1) result.scaleOut = await runScaleOut(ctx);
  } catch (error) {
    result.errors.push(`scale-out: ${message(error)}`);
    ctx.log(`scale-out ${ctx.driver.name} failed: ${message(error)}`);
  }
  result.seconds = Math.round((performance.now() - t0) / 100) / 10;
  return result;
}

async function runFanoutScenarios(ctx: PassContext, result: PassResult): Promise<void> {
  const { config, driver } = ctx;
  const redis = await startRedisServer();
  const prefix = `bench${ctx.run}`;
  let fleet: Fleet | undefined;
  const system = await driver.start({ redisUrl: redis.url, prefix, nodes: 2 }).catch(async (error: unknown) => {
    await redis.stop();
    throw error;
  });
  try {
    fleet = await Fleet.start({
      hub: ctx.hub,
      tag: `${driver.name}-r${ctx.run}-s2`,
      system: driver.name,
      redisUrl: redis.url,
      prefix,
      loadgens: config.loadgens,
      publishers: config.publishers,
    });
    const processes: TrackedProcess[] = [...system.processes, ...fleet.processes, ctx.self, { label: 'redis', group: 'redis', pid: redis.process.pid! }];
    const layout = fanoutLayout(config, system.nodes.length);
    // S4 or S3 split alone need none of S2's WebSocket connections.
    if (!['s2', 's3'].some((s) => ctx.scenarios.has(s))) layout.conns = [];
    const started = await fleet.publishers[0]!.peer.call('startTasks', { tasks: layout.owners }, 120_000);
    if (started.errors > 0) throw new Error(`starting ${layout.owners.length} tasks failed ${started.errors} times`);
    const connect = await fleet.connect(system.wire, system.nodes, layout.conns, config.connectConcurrency, 20_000, 120_000);
    ctx.log(`S2 ${driver.name}: ${connect.opened} connections subscribed in ${connect.elapsedMs} ms (${connect.failed} failed) ${connect.errors[0] ?? ''}`);
    if (layout.conns.length && connect.opened < layout.conns.length * 0.9) throw new Error(`only ${connect.opened} of ${layout.conns.length} connections: ${connect.errors.join('; ')}`);
    const env: FanoutEnv = { system, fleet, layout, processes, connect, redisUrl: redis.url };
    for (const [name, run] of [
      ['S3', async () => (result.s3 = await runS3(ctx, env))],
      ['S2', async () => (result.s2 = await runS2(ctx, env))],
      [
        'S4',
        async () => {
          const s4 = await runS4(ctx, env);
          if (s4) [result.s4, result.s4open] = [s4.closed, s4.open];
        },
      ],
      [
        'S3split',
        async () => {
          // ours and the ceiling (the floor of this client side); Socket.IO's broadcasts are in S3, and a
          // third system here would cost the full run three more minutes
          if (config.s3.splitLoadgens > 0 && driver.name !== 'socketio') result.s3split = await runS3Split(ctx, env, redis.url, prefix);
        },
      ],
    ] as const) {
      if (!ctx.scenarios.has(name.toLowerCase())) continue;
      try {
        await run();
      } catch (error) {
        result.errors.push(`${name}: ${message(error)}`);
        ctx.log(`${name} ${driver.name} failed: ${message(error)}`);
      }
    }
  } finally {
    await fleet?.stop();
    await system.stop();
    await redis.stop();
  }
}
