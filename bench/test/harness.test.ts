/**
 * Exercises the benchmark harness for real on a tiny scale, so `npm test` catches a rotten bench: the
 * bare ceiling on two nodes, one load generator with 50 connections, one publisher, then an S2 level and
 * the S3 probes, checked for complete delivery and sane latencies.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { markedMessage, readMark } from '../src/clock';
import { SMOKE, type BenchConfig } from '../src/config';
import { ControlHub } from '../src/control/control-hub';
import type { PassContext } from '../src/scenarios/context';
import { Fleet } from '../src/scenarios/fleet';
import { fanoutLayout } from '../src/scenarios/layout';
import { runS2, type FanoutEnv } from '../src/scenarios/s2-fanout';
import { runS3 } from '../src/scenarios/s3-broadcasts';
import { Histogram } from '../src/stats/histogram';
import { medianOfRuns } from '../src/stats/median';
import { ceilingDriver } from '../src/systems/peer-systems';
import type { RunningSystem } from '../src/systems/system';

const config: BenchConfig = {
  ...SMOKE,
  loadgens: 1,
  publishers: 1,
  s2: { ...SMOKE.s2, connections: 50, fanout: 5, levels: [500], warmupMs: 200, windowMs: 600, drainMs: 200 },
  s3: { ...SMOKE.s3, probes: 5, bigProjectProbes: 5, warmupProbes: 1, userConnections: 5, projectConnections: 10, bigProjectConnections: 20 },
};

describe('measurement primitives', () => {
  it('finds the send mark in raw frame bytes', () => {
    const frame = Buffer.from(`42["progress",{"payload":{"message":"${markedMessage(123456789)}"}}]`);
    expect(readMark(frame)).toBe(123456789);
    expect(readMark(Buffer.from('{"type":"ack"}'))).toBe(-1);
  });

  it('answers percentiles within a bucket and merges across processes', () => {
    const a = new Histogram();
    const b = new Histogram();
    for (let v = 1; v <= 1000; v++) (v % 2 ? a : b).record(v * 10);
    a.merge(b.toJSON());
    expect(a.count).toBe(1000);
    expect(Math.abs(a.percentile(50) - 5000) / 5000).toBeLessThan(0.02);
    expect(a.percentile(100)).toBe(10_000);
  });

  it('takes the median field by field, keeping keys missing in some runs', () => {
    expect(medianOfRuns([{ x: 1, l: { a: 5 } }, { x: 3, l: { a: 1, b: 2 } }, { x: 2, l: {} }])).toEqual({ x: 2, l: { a: 3, b: 2 } });
  });
});

describe('the harness against the bare ceiling', () => {
  let hub: ControlHub;
  let system: RunningSystem;
  let fleet: Fleet;
  let env: FanoutEnv;
  const logs: string[] = [];
  const ctx = (): PassContext => ({
    config,
    hub,
    driver: ceilingDriver,
    run: 1,
    self: { label: 'orchestrator', group: 'orchestrator', pid: process.pid, alone: true },
    maxConnections: 10_000,
    scenarios: new Set(['s2', 's3']),
    log: (m) => logs.push(m),
  });

  beforeAll(async () => {
    const redisUrl = inject('redisUrl');
    const prefix = `bench-test-${process.pid}-${Date.now()}`;
    hub = await ControlHub.start();
    system = await ceilingDriver.start({ redisUrl, prefix, nodes: 2 });
    fleet = await Fleet.start({ hub, tag: 'test', system: 'ceiling', redisUrl, prefix, loadgens: 1, publishers: 1 });
    const layout = fanoutLayout(config, 2);
    const connect = await fleet.connect(system.wire, system.nodes, layout.conns, 20, 10_000, 15_000);
    env = { system, fleet, layout, processes: [...system.processes, ...fleet.processes], connect, redisUrl };
  }, 25_000);

  afterAll(async () => {
    await fleet?.stop();
    await system?.stop();
    await hub?.close();
  });

  it('opens and subscribes every connection', () => {
    expect(env.connect).toMatchObject({ opened: 50, failed: 0 });
  });

  it('delivers every event of an S2 level to its subscribers, with latencies and CPU shares', async () => {
    const s2 = await runS2(ctx(), env);
    const level = s2.levels['500']!;
    expect(level.deliveredRatio).toBeGreaterThan(0.95);
    expect(level.latency.count).toBeGreaterThan(200);
    expect(level.latency.p50).toBeGreaterThan(0);
    expect(level.latency.p50).toBeLessThan(1000);
    // every tenth of the window had frames sent in it, and none of its p99 is above the whole window's largest
    expect(Object.keys(level.p99ByTenth)).toHaveLength(10);
    for (const p99 of Object.values(level.p99ByTenth)) {
      expect(p99).toBeGreaterThan(0);
      expect(p99).toBeLessThanOrEqual(level.latency.max);
    }
    expect(level.p99TenthsMax).toBeGreaterThanOrEqual(level.p99TenthsMedian);
    expect(Object.keys(level.cpu.byProcess)).toEqual(expect.arrayContaining(['ceiling-node0', 'loadgen0', 'publisher0']));
  }, 15_000);

  it('measures broadcasts to the last receiver, and the servers report their fan-out time', async () => {
    const s3 = await runS3(ctx(), env);
    for (const [name, expected] of [['task', 1], ['user', 5], ['project', 10], ['bigProject', 20]] as const) {
      expect(s3[name], name).toMatchObject({ expectedReceivers: expected, probes: 5, complete: 5 });
      expect(s3[name]!.toLast.p99, name).toBeGreaterThan(0);
      expect(s3[name]!.serverFanout?.count, name).toBeGreaterThan(0);
    }
  }, 15_000);
});
