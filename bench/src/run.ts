/**
 * `npm run bench` (full, about 25-35 minutes) and `npm run bench:smoke` (CI, about 2.5 minutes): starts a
 * private Redis, the systems' server processes, publishers and load generators on 127.0.0.1, runs S1-S4
 * (and S7, publishing, once after the passes) for our system and S1-S3 for Socket.IO (S5) and the bare ceiling (S0), and writes the reports.
 *
 * Options: --smoke, --runs=N, --systems=ours,socketio,ceiling, --out=DIR, and to rerun a part:
 * --s1-steps=10000,15000, --s1-subscribed=1,5 (tasks per connection; 0 skips), --levels=1000,20000
 * (offered deliveries/s), --scenarios=s3,s4 (a subset of s1, s2, s3, s4, s3split, scaleout, s7),
 * --read-rates=1000,5000 (S4 open-loop req/s), --read-clients=2 (open-loop client processes sharing a rate), --gateways=1,2,4 (scale-out steps); --render=FILE.json writes the
 * Markdown and SVG of an earlier run again (targets re-judged) without running anything.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FULL, SMOKE } from './config';
import { ControlHub } from './control/control-hub';
import { raiseOpenFilesLimit } from './proc/fd-limit';
import type { SystemName } from './publisher/sender';
import { machineInfo, withMedian, type BenchReport, type SystemReport } from './report/bench-report';
import { judgeTargets } from './report/targets';
import { writeReport } from './report/write-report';
import { runPass } from './scenarios/pass';
import { measurePublishRate, type PublishRateResult } from './scenarios/publish-rate';
import { oursDriver } from './systems/ours-system';
import { ceilingDriver, socketIoDriver } from './systems/peer-systems';
import { benchRoot, type SystemDriver } from './systems/system';

const args = process.argv.slice(2);
const option = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const config = structuredClone(args.includes('--smoke') ? SMOKE : FULL);
const numbers = (name: string) => option(name)?.split(',').map(Number).filter((v) => v > 0);
if (option('runs')) config.runs = Math.max(1, Number(option('runs')));
config.s1.steps = numbers('s1-steps') ?? config.s1.steps;
config.s1.subscribedTasks = numbers('s1-subscribed') ?? config.s1.subscribedTasks;
config.s2.levels = numbers('levels') ?? config.s2.levels;
config.s4.openLoop.rates = numbers('read-rates') ?? config.s4.openLoop.rates;
config.s4.openLoop.processes = numbers('read-clients')?.[0] ?? config.s4.openLoop.processes;
config.scaleOut.gateways = numbers('gateways') ?? config.scaleOut.gateways;
const scenarios = new Set(option('scenarios')?.toLowerCase().split(',') ?? ['s1', 's2', 's3', 's4', 's3split', 'scaleout', 's7']);
const only = option('systems')?.split(',') as SystemName[] | undefined;
const outDir = option('out') ?? join(benchRoot, 'results', config.mode === 'smoke' ? 'tmp' : '');

const render = option('render');
if (render) {
  const earlier = JSON.parse(readFileSync(render, 'utf8')) as BenchReport;
  earlier.targets = judgeTargets(earlier.config, earlier.systems, earlier.publishRate);
  const written = writeReport(earlier, option('out') ?? dirname(render));
  process.stdout.write(`${written.md}\n${written.svg}\n`);
  process.exit(0);
}

process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));

const t0 = performance.now();
const startedAt = new Date().toISOString();
const log = (message: string) => process.stdout.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${message}\n`);

// Each node may hold the largest S1 step; the load generators split it. Root can raise the limit.
const filesLimit = raiseOpenFilesLimit(Math.max(65_536, Math.max(...config.s1.steps) * 2 + 10_000));
// taken now: the report's "load average at start" (read at the end it showed the run's own load)
const machineAtStart = machineInfo(filesLimit);
const maxConnections = filesLimit - 1000;

const drivers: SystemDriver[] = [oursDriver, socketIoDriver, ceilingDriver].filter((d) => !only || only.includes(d.name));
const systems: Partial<Record<SystemName, SystemReport>> = {};
const notes: string[] = [];
for (const d of drivers) {
  const missing = d.missing();
  systems[d.name] = { name: d.name, label: d.label, passes: [], ...(missing ? { skipped: missing } : {}) };
  if (missing) {
    notes.push(`${d.label} was skipped: ${missing}.`);
    log(`skipping ${d.label}: ${missing}`);
  }
}

log(`${config.mode} bench: ${config.runs} pass(es) of ${drivers.filter((d) => !systems[d.name]?.skipped).map((d) => d.name).join(', ')}; open files limit ${filesLimit}; results in ${outDir}`);
const hub = await ControlHub.start();
const deadline = config.deadlineMinutes * 60_000;
const passSeconds: Array<{ system: SystemName; seconds: number }> = [];
let failed = false;
for (let run = 1; run <= config.runs; run++) {
  for (const driver of drivers) {
    const system = systems[driver.name]!;
    if (system.skipped) continue;
    const elapsed = performance.now() - t0;
    // A system's own slowest pass so far; before its first, the quickest pass of any system (ours runs
    // scenarios the others skip, so its time would overstate theirs).
    const own = passSeconds.filter((p) => p.system === driver.name).map((p) => p.seconds);
    const expected = (own.length ? Math.max(...own) : passSeconds.length ? Math.min(...passSeconds.map((p) => p.seconds)) : 0) * 1000;
    if (elapsed + expected > deadline) {
      const note = `pass ${run} of ${driver.label} not started: it would end after the ${config.deadlineMinutes}-minute deadline`;
      notes.push(note);
      log(note);
      continue;
    }
    log(`pass ${run}/${config.runs}: ${driver.label}`);
    const pass = await runPass({
      config,
      hub,
      driver,
      run,
      self: { label: 'orchestrator', group: 'orchestrator', pid: process.pid, alone: true },
      maxConnections,
      scenarios,
      log,
    });
    passSeconds.push({ system: driver.name, seconds: pass.seconds });
    if (pass.errors.length) failed = true;
    system.passes.push(pass);
    log(`pass ${run}/${config.runs} of ${driver.label} took ${pass.seconds} s${pass.errors.length ? ` with ${pass.errors.length} error(s)` : ''}`);
  }
}
await hub.close();

// S7 (ours only): its own Redis and API process, after the passes so it loads nothing they measure
let publishRate: PublishRateResult | undefined;
if (scenarios.has('s7') && (!only || only.includes('ours'))) {
  log('S7: stored+published events/s vs the PUBLISH floor');
  try {
    publishRate = await measurePublishRate({ ...config.s7, log });
  } catch (error) {
    failed = true;
    const note = `S7 failed: ${error instanceof Error ? error.message : String(error)}`;
    notes.push(note);
    log(note);
  }
}

for (const name of Object.keys(systems) as SystemName[]) systems[name] = withMedian(systems[name]!);
const report: BenchReport = {
  startedAt,
  finishedAt: new Date().toISOString(),
  seconds: Math.round((performance.now() - t0) / 1000),
  config,
  machine: machineAtStart,
  systems,
  targets: judgeTargets(config, systems, publishRate),
  notes,
  ...(publishRate ? { publishRate } : {}),
};
const written = writeReport(report, outDir);
const targets = written.markdown.split('\n## ')[1] ?? '';
process.stdout.write(`\n## ${targets}\n`);
log(`report: ${written.md}\n           ${written.json}\n           ${written.svg}`);
process.exit(failed ? 1 : 0);
