/**
 * The master of the stats index's `{idx}` slot killed with SIGKILL while a publisher runs (a private
 * 3+3 Redis Cluster, node timeout 1 s, cluster-require-full-coverage no: the other masters keep serving
 * their slots during the failover). The index lives on its own slot, on another master than most tasks:
 * a publish must not wait for that second shard. So publishes of tasks on the other masters stay prompt
 * throughout; those of the killed master's tasks wait for the promotion, then are prompt again; and the
 * stats (tasks by status) become right by themselves: status changes whose index write failed during
 * the failover are retried from the engine's queue.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import calculateSlot from 'cluster-key-slot';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisClusterEngine, EngineUnavailableError, type RedisClusterEngine } from '@taskpulse/engine';
import { taskChannel } from '@taskpulse/protocol';
import { createReporter, type Reported } from '@taskpulse/reporter';
import { startRedisCluster, startTsProcess, waitFor, type ManagedProcess, type RedisCluster } from '@taskpulse/testkit';
import type { PublisherReport } from './publisher-process';

const plan = { tasks: 15, rate: 200, seconds: 8 };
/** After the promotion is seen, every publish that starts this long after it must complete within PROMPT_MS. */
const SETTLE_AFTER_PROMOTION_MS = 1000;
const PROMPT_MS = 1000;
/** No publish may take longer than the failover itself plus this (the cluster is down meanwhile). */
const MAX_OVER_FAILOVER_MS = 3000;

const root = new URL('../../', import.meta.url).pathname;
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let cluster: RedisCluster | undefined;
let publisher: ManagedProcess | undefined;
let engines: RedisClusterEngine[] = [];
let dir: string | undefined;
afterEach(async () => {
  await publisher?.kill();
  publisher = undefined;
  await Promise.all(engines.map((e) => e.close()));
  engines = [];
  await cluster?.stop();
  cluster = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** The master serving the slot of the `{idx}` hash tag (every stats index key), and whether it serves a given slot. */
async function indexMaster(c: RedisCluster) {
  const indexSlot = calculateSlot('{idx}');
  for (const { server, slots } of await c.masters()) {
    const ranges = slots.filter((s) => !s.startsWith('[')).map((s) => s.split('-').map(Number) as [number, number?]);
    const serves = (slot: number) => ranges.some(([from, to]) => slot >= from && slot <= (to ?? from));
    if (serves(indexSlot)) return { server, serves };
  }
  throw new Error(`no master serves slot ${indexSlot} of {idx}`);
}

/** Retries a publish that failed with EngineUnavailableError (the cluster is down during the failover), for at most 20 s. */
async function published(call: () => Promise<Reported>): Promise<Reported> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof EngineUnavailableError) || Date.now() > deadline) throw error;
      await sleep(250);
    }
  }
}

/** A step of the test on stderr with the time, so that a run that hangs shows where. */
function step(what: string): void {
  process.stderr.write(`index failover ${new Date().toISOString()}: ${what}\n`);
}

describe('cluster failover of the stats index shard', { retry: 1 }, () => {
  it('publishes complete promptly once the {idx} master is replaced, and the stats become right again', async () => {
    cluster = await startRedisCluster({ requireFullCoverage: false });
    const prefix = `ix${randomUUID().slice(0, 8)}`;
    dir = mkdtempSync(join(tmpdir(), 'taskpulse-index-failover-'));
    const out = join(dir, 'publisher.json');
    const tasks = Array.from({ length: plan.tasks }, (_, i) => `${prefix}-task-${i}`);
    publisher = startTsProcess(`${root}test/failure/publisher-process.ts`, {
      REDIS_URL: cluster.url,
      KEY_PREFIX: prefix,
      LOG_LEVEL: 'warn',
      PUBLISHER_TASKS: tasks.join(','),
      PUBLISHER_RATE: String(plan.rate),
      PUBLISHER_COUNT: String(plan.rate * plan.seconds),
      PUBLISHER_OUT: out,
      PUBLISHER_DEADLINE_MS: String(plan.seconds * 3000 + 30_000),
    });
    const exited = new Promise<number | null>((resolve) => publisher!.child.once('exit', (code) => resolve(code)));
    // status changes from this process too, through the failover: their index writes are the ones that fail
    const engine = createRedisClusterEngine({ url: cluster.url, prefix, logger });
    engines.push(engine);
    await engine.ready();
    const reporter = createReporter(engine);
    await publisher.waitForOutput(/publisher publishing/, 30_000);
    step('publisher publishing');

    const { server: victim, serves } = await indexMaster(cluster);
    const onVictim = (task: string) => serves(calculateSlot(taskChannel(prefix, task)));
    await sleep(plan.seconds * 300);
    const killedAt = Date.now();
    victim.process.kill('SIGKILL');
    let promotedAt = 0;
    let seen = '';
    const promoted = waitFor(
      'a replica promoted in place of the {idx} master',
      async () => {
        const masters = await cluster!.masters();
        seen = masters.map((m) => `${m.server.port}${m.server === victim ? ' (killed)' : ''}: ${m.slots.join(' ')}`).join('; ');
        return masters.length === 3 && !masters.some((m) => m.server === victim);
      },
      20_000,
      100,
    ).then(
      () => {
        promotedAt = Date.now();
      },
      (error: Error) => {
        throw new Error(`${error.message}; masters last seen: ${seen}`, { cause: error.cause });
      },
    );
    // a task on a surviving master started and ended every 100 ms from the kill until 2 s after the
    // promotion: each status change writes the index, whose shard is the one being failed over
    const churned: Array<{ task: string; status: 'completed' | 'failed' }> = [];
    const churnLatencies: number[] = [];
    const timed = async (call: () => Promise<Reported>) => {
      const startedAt = Date.now();
      await published(call);
      churnLatencies.push(Date.now() - startedAt);
    };
    let failed = false;
    promoted.catch(() => {
      failed = true;
    });
    const churnDeadline = Date.now() + 30_000;
    const churn = (async () => {
      for (let i = 0; !failed && Date.now() < churnDeadline && (promotedAt === 0 || Date.now() < promotedAt + 2000); i++) {
        const task = `${prefix}-churn-${i}`;
        if (onVictim(task)) continue;
        const status = i % 3 === 2 ? 'failed' : 'completed';
        await timed(() => reporter.notifyTaskStart(task, 'user-1', 'index-failover'));
        await timed(() => (status === 'failed' ? reporter.notifyTaskFailed(task, new Error('planned')) : reporter.notifyTaskComplete(task, { ok: true })));
        churned.push({ task, status });
        await sleep(100);
      }
    })();
    step(`killed the {idx} master (port ${victim.port})`);
    await Promise.all([promoted, churn]);
    const failoverMs = promotedAt - killedAt;
    step(`promoted after ${failoverMs} ms; ${churned.length} tasks churned; waiting for the publisher`);

    const code = await Promise.race([exited, sleep(60_000).then(() => 'still running after 60 s' as const)]);
    expect(code, `publisher exit code:\n${publisher.output().slice(-3000)}`).toBe(0);
    const report = JSON.parse(readFileSync(out, 'utf8')) as PublisherReport;
    const victimTasks = report.latencies.filter(([, , task]) => onVictim(task));
    const otherTasks = report.latencies.filter(([, , task]) => !onVictim(task));
    const late = victimTasks.filter(([at]) => at >= promotedAt + SETTLE_AFTER_PROMOTION_MS);
    const slowLate = late.filter(([, ms]) => ms > PROMPT_MS);
    const slowOther = otherTasks.filter(([, ms]) => ms > PROMPT_MS);
    const maxMs = Math.max(...report.latencies.map(([, ms]) => ms));
    // the first publish on the killed master's slots that began after the kill and completed
    const recoveredAt = Math.min(...victimTasks.filter(([at]) => at >= killedAt).map(([at, ms]) => at + ms));
    const slowChurn = churnLatencies.filter((ms) => ms > PROMPT_MS);

    // what the stats must say: every publisher task and every churned task in its terminal status
    const terminalFor = (i: number) => (i % 11 === 10 ? 'cancelled' : i % 7 === 6 ? 'failed' : 'completed');
    const expected = { pending: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
    tasks.forEach((_, i) => expected[terminalFor(i)]++);
    for (const { status } of churned) expected[status]++;
    const reader = createRedisClusterEngine({ url: cluster.url, prefix, logger });
    engines.push(reader);
    await reader.ready();
    step('publisher done; reading the stats');
    const statsStartedAt = Date.now();
    let last: unknown;
    const statsRight = await waitFor(
      'the stats to count every task in its terminal status',
      async () => {
        last = (await reader.stats().catch((error: unknown) => String(error))) as unknown;
        return JSON.stringify(last) === JSON.stringify({ tasks: tasks.length + churned.length, by_status: expected });
      },
      15_000,
      200,
    ).then(
      () => true,
      () => false,
    );
    console.log(
      `── {idx} master killed (${plan.tasks} tasks, ${plan.rate} events/s for ${plan.seconds} s, ${churned.length} tasks started and ended through the failover)\n` +
        `  failover ms (promotion seen)      ${failoverMs}\n` +
        `  killed master's tasks             ${new Set(victimTasks.map(([, , task]) => task)).size} of ${plan.tasks}\n` +
        `  its first publish completed       ${recoveredAt - killedAt} ms after the kill\n` +
        `  max publish ms (any task)         ${maxMs}\n` +
        `  its publishes after promotion+1 s ${late.length} (over ${PROMPT_MS} ms: ${slowLate.length}, max ${Math.max(0, ...late.map(([, ms]) => ms))} ms)\n` +
        `  other tasks' publishes            ${otherTasks.length} (over ${PROMPT_MS} ms: ${slowOther.length}, max ${Math.max(0, ...otherTasks.map(([, ms]) => ms))} ms)\n` +
        `  churn publishes (other masters)   ${churnLatencies.length} (over ${PROMPT_MS} ms: ${slowChurn.length}, max ${Math.max(0, ...churnLatencies)} ms)\n` +
        `  publisher retries / unpublished   ${report.retries} / ${report.unpublished.start + report.unpublished.progress + report.unpublished.terminal}\n` +
        `  stats right after ms              ${statsRight ? Date.now() - statsStartedAt : 'never'}\n` +
        `  publisher errors                  ${JSON.stringify(report.errors)}\n`,
    );
    expect(report.unpublished, 'every event published').toEqual({ start: 0, progress: 0, terminal: 0 });
    expect(slowChurn, `status changes on surviving masters that took over ${PROMPT_MS} ms (waiting for the index's shard)`).toEqual([]);
    expect(slowOther, `publisher events on surviving masters that took over ${PROMPT_MS} ms`).toEqual([]);
    expect(slowLate, `killed master's publishes over ${PROMPT_MS} ms that began ${SETTLE_AFTER_PROMOTION_MS} ms after the promotion`).toEqual([]);
    expect(maxMs, 'no publish waits much longer than the failover').toBeLessThan(failoverMs + MAX_OVER_FAILOVER_MS);
    expect(last, 'stats after the failover').toEqual({ tasks: tasks.length + churned.length, by_status: expected });
  }, 120_000);
});
