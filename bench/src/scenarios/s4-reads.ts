/**
 * S4, reads: the API's snapshot and history endpoints under autocannon with a fixed number of connections,
 * after tasks were filled with a full history. Ours only: the peers keep no history.
 */
import { startTsProcess } from '@taskpulse/testkit';
import { sleep } from '../clock';
import type { TaskOwner } from '../control/commands';
import { startCpuMeter, type TrackedProcess } from '../proc/cpu-meter';
import { Histogram, summarize, type HistogramData } from '../stats/histogram';
import { repoFile } from '../systems/system';
import type { PassContext } from './context';
import type { FanoutEnv } from './s2-fanout';
import type { S4Endpoint } from './results';

/** Starts the API, fills histories, loads both endpoints; undefined for systems without an API. */
export async function runS4(ctx: PassContext, env: FanoutEnv): Promise<Record<string, S4Endpoint> | undefined> {
  if (!env.system.startApi) return undefined;
  const { s4 } = ctx.config;
  const api = await env.system.startApi();
  const tasks = Array.from({ length: s4.tasks }, (_, i) => `h${i}`);
  const publisher = env.fleet.publishers[0]!.peer;
  await publisher.call('startTasks', { tasks: tasks.map((t): TaskOwner => [t, 'u-reader', 'p-reader']) });
  const fill = await publisher.call('prefill', { tasks, events: s4.historyEvents }, 120_000);
  ctx.log(`S4 prefilled ${tasks.length} tasks x ${s4.historyEvents} events in ${fill.ms} ms (${fill.errors} errors)`);
  const endpoints: Record<string, string[]> = {
    latest: tasks.map((t) => `/api/v1/progress/${t}`),
    history: tasks.map((t) => `/api/v1/progress/${t}/history?limit=100`),
  };
  const out: Record<string, S4Endpoint> = {};
  for (const [name, paths] of Object.entries(endpoints)) {
    const check = await fetch(`${api.url}${paths[0]}`);
    if (!check.ok) ctx.log(`S4 ${name}: ${paths[0]} answered ${check.status}: ${(await check.text()).slice(0, 200)}`);
    const load = startTsProcess(repoFile('bench/src/loadgen/http-load.ts').path, {
      TARGET_URL: api.url,
      PATHS: JSON.stringify(paths),
      CONNECTIONS: String(s4.connections),
      SECONDS: String(s4.seconds),
      WARMUP_SECONDS: String(s4.warmupSeconds),
    });
    const processes: TrackedProcess[] = [...env.processes, api.process, { label: 'http-loadgen', group: 'loadgen', pid: load.child.pid! }];
    const timeout = (s4.warmupSeconds + s4.seconds) * 1000 + 30_000;
    await load.waitForOutput(/MEASURING/, timeout);
    const meter = startCpuMeter(processes);
    const line = await load.waitForOutput(/RESULT .*/, timeout);
    const cpu = meter.stop();
    await load.stop();
    const result = JSON.parse(line.slice('RESULT '.length)) as { rps: number; latency: HistogramData; non2xx: number; errors: number };
    out[name] = { path: paths[0]!.replace(/h0/, ':id'), rps: result.rps, latency: summarize(Histogram.from(result.latency)), non2xx: result.non2xx, errors: result.errors, cpu };
    ctx.log(`S4 ${name}: ${result.rps} req/s, p99 ${out[name]!.latency.p99} ms, ${result.non2xx} non-2xx, API ${cpu.byProcess['ours-api']}% CPU`);
    await sleep(200);
  }
  return out;
}
