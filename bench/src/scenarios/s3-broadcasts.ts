/**
 * S3, broadcasts: probes sent one at a time to one task with one subscriber, to a user's connections and
 * to two projects' connections, all spread over both nodes. Per probe: time from the publisher's call to
 * the first and to the last client; server-side fan-out time where the server measures it. The gap
 * between probes is at least the configured one and at least 1.5 times the slowest warm-up probe, so a
 * probe never queues behind the previous one on a slower system.
 */
import { nowMicros, sleep } from '../clock';
import type { CollectResult, ProbeKind, ProbeRow } from '../control/commands';
import { startCpuMeter } from '../proc/cpu-meter';
import { Histogram, summarize } from '../stats/histogram';
import type { PassContext } from './context';
import type { FanoutEnv } from './s2-fanout';
import { BIG_PROJECT, BROADCAST_USER, PROJECT, SOLO_TASK } from './layout';
import type { S3Case } from './results';

interface Case {
  name: string;
  kind: ProbeKind;
  target: string;
  expected: number;
  intervalMs: number;
  probes: number;
}

/** Sums the load generators' rows per probe: receivers, latest and earliest receive. */
function mergeProbes(collected: CollectResult[]): ProbeRow[] {
  const rows = new Map<number, ProbeRow>();
  for (const lg of collected) {
    for (const [send, n, last, first] of lg.probes) {
      const row = rows.get(send);
      if (row) {
        row[1] += n;
        row[2] = Math.max(row[2], last);
        row[3] = Math.min(row[3], first);
      } else rows.set(send, [send, n, last, first]);
    }
  }
  return [...rows.values()];
}

/** Runs the four broadcast cases (or those named in `only`) on the pass's connections. */
export async function runS3(ctx: PassContext, env: FanoutEnv, only?: string[]): Promise<Record<string, S3Case>> {
  const { s3 } = ctx.config;
  const all: Case[] = [
    { name: 'task', kind: 'task', target: '', expected: 1, intervalMs: s3.intervalMs.task, probes: s3.probes },
    { name: 'user', kind: 'user', target: BROADCAST_USER, expected: s3.userConnections, intervalMs: s3.intervalMs.user, probes: s3.probes },
    { name: 'project', kind: 'project', target: PROJECT, expected: s3.projectConnections, intervalMs: s3.intervalMs.project, probes: s3.probes },
    {
      name: 'bigProject',
      kind: 'project',
      target: BIG_PROJECT,
      expected: s3.bigProjectConnections,
      intervalMs: s3.intervalMs.bigProject,
      probes: s3.bigProjectProbes,
    },
  ];
  const cases = only ? all.filter((c) => only.includes(c.name)) : all;
  const publisher = env.fleet.publishers[0]!.peer;
  const out: Record<string, S3Case> = {};
  for (const c of cases) {
    const probe = (count: number, intervalMs: number) =>
      publisher.call('probe', { kind: c.kind, target: c.target, taskId: SOLO_TASK, count, intervalMs }, count * intervalMs + 30_000);
    // Warm-up probes, measured only to pace the real ones.
    await env.fleet.measure('probe', nowMicros(), nowMicros() + 3600e6);
    await probe(s3.warmupProbes, c.intervalMs);
    await sleep(Math.max(300, c.intervalMs * 3));
    const slowestMs = Math.max(0, ...mergeProbes(await env.fleet.collect()).map((r) => r[2] / 1000));
    const intervalMs = Math.min(1000, Math.max(c.intervalMs, Math.ceil(slowestMs * 1.5)));
    await env.system.fanout(); // start the servers' own measurement from here
    await env.fleet.measure('probe', nowMicros(), nowMicros() + 3600e6);
    const meter = startCpuMeter(env.processes);
    const sent = await probe(c.probes, intervalMs);
    await sleep(Math.max(300, intervalMs * 3));
    const cpu = meter.stop();
    const collected = await env.fleet.collect();
    await env.fleet.measure('off', 0, 0);
    const fanout = await env.system.fanout();
    const rows = mergeProbes(collected);
    const perClient = new Histogram();
    for (const lg of collected) perClient.merge(lg.latency);
    const toLast = new Histogram();
    const toFirst = new Histogram();
    const spread = new Histogram();
    let complete = 0;
    for (const [, n, last, first] of rows) {
      if (n >= c.expected) complete++;
      toLast.record(last);
      toFirst.record(first);
      spread.record(last - first);
    }
    let serverFanout: S3Case['serverFanout'] = null;
    if (fanout) {
      const h = new Histogram();
      for (const node of fanout) h.merge(node[c.kind]);
      // A system that does not time this kind (ours: task frames) reports nothing rather than zeros.
      serverFanout = h.count > 0 ? summarize(h) : null;
    }
    out[c.name] = {
      expectedReceivers: c.expected,
      probes: sent.sendTimes.length,
      complete,
      toLast: summarize(toLast),
      toFirst: summarize(toFirst),
      spread: summarize(spread),
      perClient: summarize(perClient),
      serverFanout,
      cpu,
      intervalMs,
      publisherErrors: sent.errors,
      loadgenStallMs: Math.max(...collected.map((lg) => lg.stallMs)),
    };
    ctx.log(
      `S3 ${ctx.driver.name} ${c.name} (${c.expected} receivers): to last p50 ${out[c.name]!.toLast.p50} p99 ${out[c.name]!.toLast.p99} ms, ` +
        `${complete}/${sent.sendTimes.length} complete` +
        (serverFanout ? `, server fan-out p99 ${serverFanout.p99} ms` : '') +
        (sent.firstError ? `, publisher error: ${sent.firstError}` : ''),
    );
  }
  return out;
}
