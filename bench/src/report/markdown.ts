/** The human report: targets first, then each scenario with every figure beside Socket.IO's and the ceiling's, as ratios too. */
import { publishRateMarkdown } from '../scenarios/publish-rate';
import type { PassResult } from '../scenarios/results';
import type { SystemName } from '../publisher/sender';
import type { LatencySummary } from '../stats/histogram';
import type { BenchReport } from './bench-report';
import { cpuPerFrameMicros, referenceLevel, serverCpuPct } from './targets';

const ORDER: SystemName[] = ['ours', 'socketio', 'ceiling'];
const n = (v: number | undefined, digits = 2) => (v === undefined || !Number.isFinite(v) ? 'n/a' : String(Math.round(v * 10 ** digits) / 10 ** digits));
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? 'n/a' : `${n(a / b)}x`;

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** The Markdown report; `chartFile` is the SVG's name next to it. */
export function markdownReport(report: BenchReport, chartFile: string): string {
  const { config, machine, systems } = report;
  const med = (s: SystemName): PassResult | undefined => systems[s]?.median;
  const label = (s: SystemName) => systems[s]?.label ?? s;
  const ran = ORDER.filter((s) => med(s));
  const out: string[] = [];
  const ref = referenceLevel(config);
  out.push(`# taskpulse benchmark, ${report.startedAt} (${config.mode})`, '');
  out.push(
    `Machine: ${machine.cores} cores (${machine.model}), ${machine.memoryGB} GiB, Node ${machine.node}, Linux ${machine.kernel}, ` +
      `load average at start ${machine.loadAverageAtStart.join(' / ')}, open files limit ${machine.openFilesLimit}. ` +
      `Every process ran on this one machine over 127.0.0.1. ${config.runs} pass(es) per system; every figure is the median over passes. ` +
      `Took ${Math.round(report.seconds)} s.`,
    '',
  );
  out.push(table(['system', 'status'], ORDER.map((s) => [label(s), systems[s]?.skipped ? `**skipped**: ${systems[s]!.skipped}` : `${systems[s]?.passes.length ?? 0} pass(es)`])), '');
  if (report.notes.length) out.push(...report.notes.map((note) => `> ${note}`), '');

  out.push('## Targets', '');
  out.push(table(['target', 'goal', 'measured (ours)', 'result', 'what bounds it'], report.targets.map((t) => [t.target, t.goal, t.measured, t.result === 'pass' ? 'pass' : t.result === 'miss' ? '**miss**' : 'n/a', t.bound])), '');

  out.push('## S1 connections (one node, idle and subscribed connections)', '');
  const s1 = (s: SystemName) => med(s)?.s1;
  const s1rows: Array<[string, (s: SystemName) => number | undefined]> = [
    [`connect rate while ramping to ${config.s1.steps[0]} (conn/s)`, (s) => s1(s)?.connectRatePerSec],
    ['connections held at the end', (s) => s1(s)?.maxHeld],
    ['node RSS with no connections (MB)', (s) => s1(s)?.baselineRssMB],
    [`node RSS per 1,000 idle connections at ${config.s1.steps[0]} (KB)`, (s) => s1(s)?.rssPer1kIdleKB],
    ['node RSS per 1,000 idle connections at the largest step (KB)', (s) => s1(s)?.rssPer1kIdleAtMaxKB],
    ['marginal node RSS per 1,000, first to largest step (KB)', (s) => s1(s)?.rssMarginalPer1kKB],
    ...config.s1.subscribedTasks.map((k): [string, (s: SystemName) => number | undefined] => [
      `node RSS per 1,000 connections subscribed to ${k} task${k === 1 ? '' : 's'} each, fresh node (KB)`,
      (s) => med(s)?.s1Subscribed?.[String(k)]?.rssPer1kKB,
    ]),
    ...config.s1.subscribedTasks.map((k): [string, (s: SystemName) => number | undefined] => [
      `connect + subscribe (${k} task${k === 1 ? '' : 's'} each) of ${config.s1.steps[0]} (ms)`,
      (s) => med(s)?.s1Subscribed?.[String(k)]?.elapsedMs,
    ]),
    ['server CPU during the ramp (% of a core)', (s) => s1(s)?.cpu.byGroup.server],
    [`node CPU with the first step's connections idle (% of a core)`, (s) => s1(s)?.idleCpuPct],
    ['node CPU per 1,000 idle connections (% of a core)', (s) => s1(s)?.idleCpuPer1kPct],
    ['busiest load generator during the ramp (% of a core)', (s) => maxOf(s1(s)?.cpu.byProcess, 'loadgen')],
  ];
  out.push(comparison(s1rows, ran, label), '');
  out.push(table(['system', 'stopped because', 'steps: target -> held, ms, conn/s, RSS MB'], ran.map((s) => [label(s), s1(s)?.stoppedBecause ?? 'n/a', Object.values(s1(s)?.steps ?? {}).map((st) => `${st.target} -> ${st.held}, ${st.elapsedMs} ms, ${st.ratePerSec}/s, ${st.rssMB} MB`).join('; ')])), '');

  out.push(`## S2 fan-out (${config.s2.connections} connections over 2 nodes, ${config.s2.connections / config.s2.fanout} tasks x ${config.s2.fanout} subscribers)`, '');
  out.push(`Offered load is in deliveries per second (events per second x ${config.s2.fanout}), the unit the targets use: the issue's 1k, 5k, 10k and 20k levels, then doubling until a system saturates (under 90% delivered in time or p99 above 1 s), which gives its highest delivered rate. Latency is the publisher's call to the client's receive, warm-up excluded (${config.s2.warmupMs} ms), window ${config.s2.windowMs} ms. CPU in % of one core over the window; the servers' is also split into user mode (utime: JavaScript, V8, uWS's C++) and kernel mode (stime: system calls, and on loopback the TCP delivery into the receiving socket, charged to the sender).`, '');
  out.push(`![latency against offered load](${chartFile})`, '');
  const levelRows: string[][] = [];
  for (const offered of config.s2.levels) {
    for (const s of ran) {
      const l = med(s)?.s2?.levels[String(offered)];
      if (!l) continue;
      levelRows.push([
        String(offered),
        label(s),
        n(l.achievedEventsPerSec * config.s2.fanout, 0),
        n(l.deliveredPerSec, 0),
        `${n(l.deliveredRatio * 100, 1)}%`,
        lat(l.latency),
        n(l.cpu.byGroup.server, 1),
        `${n(serverCpuPct(l, 'user'), 1)} / ${n(serverCpuPct(l, 'kernel'), 1)}`,
        n(cpuPerFrameMicros(l), 1),
        `${n(cpuPerFrameMicros(l, 'user'), 1)} / ${n(cpuPerFrameMicros(l, 'kernel'), 1)}`,
        n(l.cpu.byGroup.redis, 1),
        n(l.cpu.byGroup.publisher, 1),
        `${n(l.cpu.byGroup.loadgen, 1)} (max ${n(maxOf(l.cpu.byProcess, 'loadgen'), 1)})`,
        `${n(l.cpu.machine, 0)} (other ${n(l.cpu.other, 0)}, steal ${n(l.cpu.steal, 0)})`,
        n(l.loadgenStallMs, 0),
        [l.saturated ? 'saturated' : '', l.lostConnections ? `${l.lostConnections} connections lost` : ''].filter(Boolean).join(', '),
      ]);
    }
  }
  out.push(table(['offered/s', 'system', 'sent x fanout /s', 'delivered/s', 'delivered', 'p50 / p99 / p99.9 / max ms', 'servers %', 'servers user % / kernel %', 'server µs/frame', 'user / kernel µs/frame', 'redis %', 'publishers %', 'loadgens %', 'machine %', 'client stall ms', ''], levelRows), '');
  out.push(`p99 per tenth of the window (${config.s2.windowMs / 10} ms each, by send time; the steady state is the tenths after the first):`, '');
  const tenthRows: string[][] = [];
  for (const offered of config.s2.levels) {
    for (const s of ran) {
      const l = med(s)?.s2?.levels[String(offered)];
      if (!l?.p99ByTenth) continue;
      tenthRows.push([String(offered), label(s), n(l.p99TenthsMedian), n(l.p99TenthsMax), Array.from({ length: 10 }, (_, t) => n(l.p99ByTenth[String(t + 1)])).join(' / ')]);
    }
  }
  out.push(table(['offered/s', 'system', 'steady p99, median of tenths ms', 'steady p99, worst tenth ms', 'p99 of tenths 1 ... 10 ms'], tenthRows), '');
  out.push('Where a tail can come from, over the same windows: the nodes\' garbage collection and event-loop delay (ours: prom-client figures from each gateway\'s /metrics; the peers have none) and Redis\'s time per publish script (INFO commandstats, EVALSHA and EVAL) and busy share:', '');
  const probeRows: string[][] = [];
  for (const offered of config.s2.levels) {
    for (const s of ran) {
      const p = med(s)?.s2?.levels[String(offered)]?.server;
      if (!p) continue;
      probeRows.push([String(offered), label(s), `${n(p.gcMs, 1)} / ${n(p.gcCount, 0)}`, `${n(p.loopDelayP99Ms)} / ${n(p.loopDelayMaxMs)}`, n(p.scriptUsecPerCall, 1), n(p.scriptCallsPerSec, 0), n(p.redisCommandPercent, 1)]);
    }
  }
  out.push(table(['offered/s', 'system', 'server GC ms / collections in the window', 'worst node loop delay p99 / max ms', 'Redis µs per publish script', 'scripts/s', 'Redis busy %'], probeRows), '');
  const cmpRows: string[][] = [];
  for (const offered of config.s2.levels) {
    const get = (s: SystemName) => med(s)?.s2?.levels[String(offered)];
    const [o, sio, c] = [get('ours'), get('socketio'), get('ceiling')];
    if (!o) continue;
    const withRedis = (l: typeof o | undefined) => (l ? (l.cpu.byGroup.server ?? 0) + (l.cpu.byGroup.redis ?? 0) : undefined);
    cmpRows.push([
      String(offered),
      ratio(o.latency.p99, sio?.latency.p99),
      ratio(o.cpu.byGroup.server, sio?.cpu.byGroup.server),
      ratio(withRedis(o), withRedis(sio)),
      ratio(o.deliveredPerSec, sio?.deliveredPerSec),
      ratio(o.latency.p99, c?.latency.p99),
      ratio(o.cpu.byGroup.server, c?.cpu.byGroup.server),
      ratio(withRedis(o), withRedis(c)),
      ratio(o.deliveredPerSec, c?.deliveredPerSec),
    ]);
  }
  out.push('Ratios, ours over the other system (lower is better for p99 and CPU, higher for delivered):', '');
  out.push(table(['offered/s', 'p99 / Socket.IO', 'server CPU / Socket.IO', 'servers+Redis CPU / Socket.IO', 'delivered / Socket.IO', 'p99 / ceiling', 'server CPU / ceiling', 'servers+Redis CPU / ceiling', 'delivered / ceiling'], cmpRows), '');
  out.push(table(['system', 'connect + subscribe', 'highest delivered/s', 'levels stopped because'], ran.map((s) => {
    const r = med(s)?.s2;
    return [label(s), r ? `${n(r.connect.opened, 0)} in ${n(r.connect.elapsedMs, 0)} ms` : 'n/a', n(r?.maxDeliveredPerSec, 0), r?.stoppedBecause ?? 'n/a'];
  })), '');

  out.push('## S3 broadcasts (probes one at a time, receivers on both nodes)', '');
  out.push(`Time to the last client includes the client side: the N frames of one broadcast are read by ${config.loadgens} load-generator processes sharing the machine's ${machine.cores} cores with the servers. The ceiling's row is therefore the floor of this machine and harness; "ours p99 - this" against it is what the product adds.`, '');
  const caseNames: Array<[string, string]> = [
    ['task', 'one task, one subscriber (guide < 5 ms)'],
    ['user', `user, ${config.s3.userConnections} connections (guide < 10 ms)`],
    ['project', `project, ${config.s3.projectConnections} connections (guide < 15 ms)`],
    ['bigProject', `project, ${config.s3.bigProjectConnections} connections (stress)`],
  ];
  const s3rows = s3Rows(caseNames, 's3');
  out.push(table(S3_HEAD, s3rows), '');
  if (ran.some((s) => med(s)?.s3split)) {
    out.push(`### S3 split: the project broadcasts, receivers alone on ${config.s3.splitLoadgens} load generators`, '');
    out.push(
      `The same probes to the ${config.s3.projectConnections}- and ${config.s3.bigProjectConnections}-connection projects, with those connections alone (S2's closed) and spread round-robin over ${config.s3.splitLoadgens} load-generator processes that hold nothing else, so that no client process reads more than ${Math.ceil(config.s3.bigProjectConnections / config.s3.splitLoadgens)} frames of one broadcast. Server fan-out is each node's own time to hand the frame to its local sockets.`,
      '',
    );
    out.push(table(S3_HEAD, s3Rows(caseNames.filter(([name]) => name.includes('roject')), 's3split')), '');
  }

  function s3Rows(cases: Array<[string, string]>, key: 's3' | 's3split'): string[][] {
  const s3rows: string[][] = [];
  for (const [name, title] of cases) {
    for (const s of ran) {
      const c = med(s)?.[key]?.[name];
      if (!c) continue;
      s3rows.push([
        title,
        label(s),
        lat(c.toLast),
        n(c.toFirst.p50),
        n(c.spread.p99),
        c.serverFanout ? `${n(c.serverFanout.p50, 3)} / ${n(c.serverFanout.p99, 3)}` : 'not instrumented',
        `${n(c.complete, 0)}/${n(c.probes, 0)}`,
        n(c.intervalMs, 0),
        s === 'ours' ? '' : ratio(med('ours')?.[key]?.[name]?.toLast.p99, c.toLast.p99),
        s === 'ours' ? '' : n((med('ours')?.[key]?.[name]?.toLast.p99 ?? Number.NaN) - c.toLast.p99),
      ]);
    }
  }
  return s3rows;
  }

  out.push(`## S4 reads (ours; autocannon, ${config.s4.connections} connections, ${config.s4.seconds} s after ${config.s4.warmupSeconds} s warm-up)`, '');
  const s4 = med('ours')?.s4;
  out.push(
    s4
      ? table(['endpoint', 'req/s', 'p50 / p99 / p99.9 / max ms', 'non-2xx', 'errors', 'API %', 'Redis %', 'load generator %'], Object.values(s4).map((e) => [
          `GET ${e.path}`, n(e.rps, 0), lat(e.latency), n(e.non2xx, 0), n(e.errors, 0), n(e.cpu.byProcess['ours-api'], 1), n(e.cpu.byGroup.redis, 1), n(e.cpu.byProcess['http-loadgen'], 1),
        ]))
      : 'not measured (ours did not run).',
    '',
  );
  const open = med('ours')?.s4open;
  if (open) {
    const o = config.s4.openLoop;
    out.push(
      `Open loop (ours): requests due at a fixed rate whatever the API answers, shared by ${o.processes} client process(es) (each at most ${o.maxSockets} keep-alive connections), ${o.seconds} s after ${o.warmupSeconds} s warm-up; latency from a request's scheduled send time to its last byte, so the client's own lateness and waiting for a connection count (no coordinated omission, nothing dropped). "Served" is the rate of requests due in the window that were answered. Beside it, the API's own request-duration histogram over the same window (the bucket bound that holds its p99), and the clients' own stalls: worst tick lateness, event-loop delay p99 / max, and GC pauses summed.`,
      '',
      table(['endpoint', 'offered req/s', 'served req/s', 'client p50 / p99 / p99.9 / max ms', 'server p99 ms', 'API loop delay p99 / max ms', 'API GC ms', 'unanswered', 'non-2xx', 'sockets', 'client tick lag ms', 'client loop delay p99 / max ms', 'client GC ms', 'API %', 'Redis %', 'load generators %', 'machine %'], Object.values(open).map((e) => [
        `GET ${e.path}`, n(e.offered, 0), n(e.served, 0), lat(e.latency), e.server ? `≤ ${n(e.server.p99UpToMs, 1)}` : 'n/a',
        e.server ? `${n(e.server.loopDelayP99Ms, 1)} / ${n(e.server.loopDelayMaxMs, 1)}` : 'n/a', e.server ? n(e.server.gcMs, 1) : 'n/a', n(e.unanswered, 0), n(e.non2xx, 0), n(e.sockets, 0), n(e.clientLagMs, 1),
        e.client ? `${n(e.client.loopDelayP99Ms, 1)} / ${n(e.client.loopDelayMaxMs, 1)}` : 'n/a', e.client ? n(e.client.gcMs, 1) : 'n/a',
        n(e.cpu.byProcess['ours-api'], 1), n(e.cpu.byGroup.redis, 1), n(e.cpu.byGroup.loadgen, 1), n(e.cpu.machine, 1),
      ])),
      '',
    );
  }

  const scale = med('ours')?.scaleOut ?? systems.ours?.passes.find((p) => p.scaleOut)?.scaleOut;
  if (scale && Object.keys(scale).length) {
    const so = config.scaleOut;
    out.push(`## Scale-out (ours): the same load per gateway on ${so.gateways.join(', ')} gateways`, '');
    out.push(
      `Each gateway holds ${n(so.connectionsPerGateway, 0)} connections (tasks x ${config.s2.fanout} subscribers, each task's subscribers on one gateway) and is offered ${n(so.deliveriesPerGateway, 0)} deliveries/s; one load generator per gateway, ${so.publishers} publisher(s); on ${so.targets.map((t) => (t === 'cluster' ? 'a Redis Cluster of 3 masters and 3 replicas' : 'one Redis')).join(' and ')}; S2's windows. Speed-up is delivered/s over the one-gateway step's; efficiency is speed-up per gateway (1 = linear). Measured in the first pass only.`,
      '',
      table(['target', 'gateways', 'connections', 'offered/s', 'delivered/s', 'p50 / p99 / p99.9 / max ms', 'speed-up', 'efficiency', 'servers %', 'redis %', 'publishers %', 'loadgens %', 'machine % (other)', 'what bounds it'], Object.values(scale).map((st) => [
        st.target, n(st.gateways, 0), n(st.connections, 0), n(st.offered, 0), n(st.level.deliveredPerSec, 0), lat(st.level.latency), n(st.speedup), n(st.efficiency),
        n(st.level.cpu.byGroup.server, 1), n(st.level.cpu.byGroup.redis, 1), n(st.level.cpu.byGroup.publisher, 1), n(st.level.cpu.byGroup.loadgen, 1), `${n(st.level.cpu.machine, 0)} (${n(st.level.cpu.other, 0)})`, st.bound,
      ])),
      '',
    );
  }

  if (report.publishRate) {
    out.push('## S7 publishing (ours): events stored and published per second against the PUBLISH floor', '');
    out.push(...publishRateMarkdown(report.publishRate));
  }

  out.push(`## CPU of every process at ${ref} deliveries/s (% of one core)`, '');
  const cpuAt = (s: SystemName) => med(s)?.s2?.levels[String(ref)]?.cpu;
  const labels = [...new Set(ran.flatMap((s) => Object.keys(cpuAt(s)?.byProcess ?? {})))];
  const cpuRows = labels.map((l) => [l, ...ran.map((s) => n(cpuAt(s)?.byProcess[l], 1))]);
  cpuRows.push(['whole machine', ...ran.map((s) => n(cpuAt(s)?.machine, 1))]);
  cpuRows.push(['other work on the machine (not the bench)', ...ran.map((s) => n(cpuAt(s)?.other, 1))]);
  out.push(table(['process', ...ran.map(label)], cpuRows), '');

  out.push('## Method', '');
  out.push(...METHOD.map((line) => `- ${line}`), '');
  const errors = ORDER.flatMap((s) => (systems[s]?.passes ?? []).flatMap((p) => p.errors.map((e) => `${label(s)} pass ${p.run}: ${e}`)));
  if (errors.length) out.push('## Errors', '', ...errors.map((e) => `- ${e.split('\n')[0]}`), '');
  return out.join('\n');
}

const S3_HEAD = ['case', 'system', 'to last client p50 / p99 / p99.9 / max ms', 'to first p50 ms', 'spread p99 ms', 'server fan-out per node p50 / p99 ms', 'complete', 'gap ms', 'ours p99 / this', 'ours p99 - this, ms'];

function lat(l: LatencySummary | undefined): string {
  return l ? `${n(l.p50)} / ${n(l.p99)} / ${n(l.p999)} / ${n(l.max)}` : 'n/a';
}

function maxOf(byProcess: Record<string, number> | undefined, prefix: string): number | undefined {
  const values = Object.entries(byProcess ?? {}).filter(([k]) => k.startsWith(prefix)).map(([, v]) => v);
  return values.length ? Math.max(...values) : undefined;
}

function comparison(rows: Array<[string, (s: SystemName) => number | undefined]>, ran: SystemName[], label: (s: SystemName) => string): string {
  const head = ['figure', ...ran.map(label)];
  if (ran.includes('ours') && ran.includes('socketio')) head.push('ours / Socket.IO');
  if (ran.includes('ours') && ran.includes('ceiling')) head.push('ours / ceiling');
  return table(head, rows.map(([name, get]) => {
    const r = [name, ...ran.map((s) => n(get(s), 1))];
    if (ran.includes('ours') && ran.includes('socketio')) r.push(ratio(get('ours'), get('socketio')));
    if (ran.includes('ours') && ran.includes('ceiling')) r.push(ratio(get('ours'), get('ceiling')));
    return r;
  }));
}

const METHOD = [
  'One machine, one clock: senders write CLOCK_MONOTONIC microseconds (process.hrtime) into the event message just before the reporter call (the publisher\'s clock, which every process on the machine shares); load generators find the mark in the raw frame bytes and subtract, so latency runs from the publisher\'s call to the client\'s receive with no clock skew. Besides the whole window, p99 is given per tenth of the window by send time: a tail confined to part of the run shows there instead of being diluted.',
  'S1 memory is measured for idle connections (the ramp) and, each on a fresh node, for connections subscribed to 1 and to 5 tasks each (10 subscribers per task with one task each), as a product\'s connections are; resident memory growth per 1,000 connections after a settle time, garbage not yet collected included.',
  'Load generators are separate processes (each with its own loopback source address) holding an equal share of the connections on the raw `ws` client. Socket.IO is spoken by a minimal Engine.IO v4 / Socket.IO v5 client on that same `ws` client, so a frame costs every system the same on the client side.',
  'Publishers are separate processes pacing with a token bucket (1 ms ticks, at most 20 ms of tokens at once, in-flight capped); a publisher that cannot keep up shows as a lower achieved rate and a lag, never as a burst.',
  'Publishing paths: ours calls the reporter (`updateProgress`, `broadcastToUser`, `broadcastToProject`) on the Redis engine, which runs one Lua script (stream append, snapshot, PUBLISH). Socket.IO is published to the way @socket.io/redis-emitter does it (how a Socket.IO deployment publishes from workers): the msgpack packet PUBLISHed on `socket.io#/#<room>#`; every node\'s redis-adapter receives every message (pattern subscription), skips rooms it has no local member of, and broadcasts to its local room. The publisher subscribes to nothing. The ceiling publishes ready frame bytes with a plain PUBLISH. Ours therefore also stores every event (history, snapshot), which the others do not.',
  'Socket.IO 4 runs with its default `ws` engine, WebSocket transport only, per-message deflate off, @socket.io/redis-adapter on two nodes; our gateway and the ceiling run uWebSockets.js on two nodes. Each system gets a fresh Redis per pass.',
  '"Server CPU" is the two server nodes; Redis is listed beside it (ours does more there: the Lua script stores every event) and the ratios are also given for servers plus Redis.',
  'The ceiling is uWebSockets.js topics fed by one ioredis subscriber per process with no product logic (bench/src/peers/bare-uws-server.ts): the distance to it is the cost of the product.',
  'Warm-up is excluded by time windows: only frames sent inside the window count, frames received up to the drain time after it. Delivered/s counts those frames; a frame that arrives after the drain counts as not delivered.',
  'CPU share of every process (its tree, /proc/<pid>/stat utime+stime) is taken over each measured window, with the machine total from /proc/stat; "other" is machine load no benchmark process accounts for (other work on the machine), "steal" is time the hypervisor gave our virtual CPUs to someone else. A load generator near 100% means the figure is bounded by the client side.',
  'Each load generator watches its own event loop (perf_hooks.monitorEventLoopDelay); "client stall" is the longest stall of any of them in the window. A stall delays every frame that client holds, so a tail that coincides with a large client stall is the client\'s, not the server\'s.',
  'S3 time to the last client is per probe: the latest receive among all expected receivers, over all load generators. Server fan-out time is measured inside the peers (around app.publish and the adapter\'s local broadcast); our gateway exposes no such timer, so for ours the spread (last minus first receive) stands in.',
];
