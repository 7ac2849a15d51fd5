/**
 * S4, reads: the API's snapshot and history endpoints after tasks were filled with a full history, loaded
 * two ways. Closed loop (autocannon, a fixed number of connections) gives the highest rate; open loop
 * (http-open-loop.ts, requests due at 1k, 5k and 10k req/s whatever the answers do) gives latency as
 * users load it: p50/p99 from each request's scheduled send time (the client's own lateness and waiting for
 * a connection included), the rate actually served, and beside them the clients' stalls and the API's own
 * p99, loop delay and GC over the same window. Ours only: the
 * peers keep no history.
 */
import { startTsProcess } from '@taskpulse/testkit';
import { sleep } from '../clock';
import type { TaskOwner } from '../control/commands';
import { startCpuMeter, type TrackedProcess } from '../proc/cpu-meter';
import { Histogram, summarize, type HistogramData } from '../stats/histogram';
import { repoFile } from '../systems/system';
import { apiWindow, scrapeApi } from './api-latency-probe';
import type { PassContext } from './context';
import type { FanoutEnv } from './s2-fanout';
import type { S4Endpoint, S4OpenLoop } from './results';

/** What S4 measured: closed-loop endpoints, and open-loop endpoint x rate. */
export interface S4Result {
  closed: Record<string, S4Endpoint>;
  open: Record<string, S4OpenLoop>;
}

/** Starts the API, fills histories, loads the endpoints; undefined for systems without an API. */
export async function runS4(ctx: PassContext, env: FanoutEnv): Promise<S4Result | undefined> {
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
    history20: tasks.map((t) => `/api/v1/progress/${t}/history?limit=20`),
    history: tasks.map((t) => `/api/v1/progress/${t}/history?limit=100`),
  };
  const processesWith = (...pids: number[]): TrackedProcess[] => [
    ...env.processes,
    api.process,
    ...pids.map((pid, i): TrackedProcess => ({ label: i === 0 ? 'http-loadgen' : `http-loadgen-${i + 1}`, group: 'loadgen', pid })),
  ];
  const closed: Record<string, S4Endpoint> = {};
  for (const [name, paths] of Object.entries(endpoints)) {
    const check = await fetch(`${api.url}${paths[0]}`);
    if (!check.ok) ctx.log(`S4 ${name}: ${paths[0]} answered ${check.status}: ${(await check.text()).slice(0, 200)}`);
    if (name === 'history20') continue; // closed loop: the maximum rate of the two guide endpoints only
    const load = startTsProcess(repoFile('bench/src/loadgen/http-load.ts').path, {
      TARGET_URL: api.url,
      PATHS: JSON.stringify(paths),
      CONNECTIONS: String(s4.connections),
      SECONDS: String(s4.seconds),
      WARMUP_SECONDS: String(s4.warmupSeconds),
    });
    const timeout = (s4.warmupSeconds + s4.seconds) * 1000 + 30_000;
    await load.waitForOutput(/MEASURING/, timeout);
    const meter = startCpuMeter(processesWith(load.child.pid!));
    const line = await load.waitForOutput(/RESULT .*/, timeout);
    const cpu = meter.stop();
    await load.stop();
    const result = JSON.parse(line.slice('RESULT '.length)) as { rps: number; latency: HistogramData; non2xx: number; errors: number };
    closed[name] = { path: pathOf(paths[0]!), rps: result.rps, latency: summarize(Histogram.from(result.latency)), non2xx: result.non2xx, errors: result.errors, cpu };
    ctx.log(`S4 ${name}: ${result.rps} req/s, p99 ${closed[name]!.latency.p99} ms, ${result.non2xx} non-2xx, API ${cpu.byProcess['ours-api']}% CPU`);
    await sleep(200);
  }
  const open: Record<string, S4OpenLoop> = {};
  for (const [name, paths] of Object.entries(endpoints)) {
    for (const rate of s4.openLoop.rates) {
      const o = await runOpenLoop(api.url, paths, rate, s4.openLoop, processesWith);
      open[`${name}@${rate}`] = { endpoint: name, ...o };
      ctx.log(
        `S4 open loop ${name} at ${rate} req/s: served ${o.served}/s, p50 ${o.latency.p50} p99 ${o.latency.p99} ms, ` +
          `server p99 <= ${o.server?.p99UpToMs} ms (loop delay p99/max ${o.server?.loopDelayP99Ms}/${o.server?.loopDelayMaxMs} ms, GC ${o.server?.gcMs} ms in ${o.server?.gcCount}); ${o.unanswered} unanswered, ${o.sockets} sockets; client (${o.client?.processes} processes) ` +
          `tick lag ${o.clientLagMs} ms, loop delay p99/max ${o.client?.loopDelayP99Ms}/${o.client?.loopDelayMaxMs} ms, GC ${o.client?.gcMs} ms in ${o.client?.gcCount}; ` +
          `API ${o.cpu.byProcess['ours-api']}% Redis ${o.cpu.byGroup.redis}% clients ${o.cpu.byGroup.loadgen}% other ${o.cpu.other}%`,
      );
      await sleep(300);
    }
  }
  return { closed, open };
}

function pathOf(first: string): string {
  return first.replace(/h0/, ':id');
}

/** What one open-loop client process printed. */
interface OpenLoopClientResult {
  served: number;
  latency: HistogramData;
  non2xx: number;
  errors: number;
  unanswered: number;
  sockets: number;
  clientLagMs: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  gcMs: number;
  gcCount: number;
}

/**
 * One open-loop run of one endpoint at one rate, the rate shared by o.processes client processes (their
 * due times interleaved), with the CPU of every process and the API's own request-duration histogram over
 * its window.
 */
export async function runOpenLoop(
  url: string,
  paths: string[],
  rate: number,
  o: { warmupSeconds: number; seconds: number; maxSockets: number; processes: number },
  processesWith: (...loadPids: number[]) => TrackedProcess[],
): Promise<Omit<S4OpenLoop, 'endpoint'>> {
  const count = Math.max(1, o.processes);
  const loads = Array.from({ length: count }, (_, i) =>
    startTsProcess(repoFile('bench/src/loadgen/http-open-loop.ts').path, {
      TARGET_URL: url,
      PATHS: JSON.stringify(paths),
      RATE: String(rate / count),
      PHASE: String(i / count),
      SECONDS: String(o.seconds),
      WARMUP_SECONDS: String(o.warmupSeconds),
      MAX_SOCKETS: String(o.maxSockets),
    }),
  );
  const timeout = (o.warmupSeconds + o.seconds) * 1000 + 30_000;
  const route = routeOf(paths[0]!);
  try {
    await Promise.all(loads.map((load) => load.waitForOutput(/MEASURING/, timeout)));
    const meter = startCpuMeter(processesWith(...loads.map((load) => load.child.pid!)));
    const before = await scrapeApi(url, route);
    await sleep(o.seconds * 1000);
    const cpu = meter.stop();
    const lines = await Promise.all(loads.map((load) => load.waitForOutput(/RESULT .*/, timeout)));
    const server = apiWindow(before, await scrapeApi(url, route));
    const results = lines.map((line) => JSON.parse(line.slice('RESULT '.length)) as OpenLoopClientResult);
    const latency = new Histogram();
    for (const r of results) latency.merge(r.latency);
    const sum = (pick: (r: OpenLoopClientResult) => number) => results.reduce((total, r) => total + pick(r), 0);
    const max = (pick: (r: OpenLoopClientResult) => number) => Math.max(...results.map(pick));
    return {
      path: pathOf(paths[0]!),
      offered: rate,
      served: sum((r) => r.served),
      latency: summarize(latency),
      non2xx: sum((r) => r.non2xx),
      errors: sum((r) => r.errors),
      unanswered: sum((r) => r.unanswered),
      sockets: sum((r) => r.sockets),
      clientLagMs: max((r) => r.clientLagMs),
      client: {
        processes: count,
        loopDelayP99Ms: max((r) => r.loopDelayP99Ms),
        loopDelayMaxMs: max((r) => r.loopDelayMaxMs),
        gcMs: Math.round(sum((r) => r.gcMs) * 10) / 10,
        gcCount: sum((r) => r.gcCount),
      },
      server,
      cpu,
    };
  } finally {
    await Promise.all(loads.map((load) => load.stop()));
  }
}

/** The API's route pattern for a read path (its request-duration metric is labelled by pattern). */
function routeOf(first: string): string {
  return first.includes('/history') ? '/api/v1/progress/:task_id/history' : '/api/v1/progress/:task_id';
}
