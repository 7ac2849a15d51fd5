/**
 * The user/kernel split of the CPU meter (read from /proc for real, on a child that burns CPU in each mode)
 * and the issue 12 item 1 target row judged from it: pass, miss with a bound computed from the split, and
 * undecided when the machine was saturated.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { FULL } from '../src/config';
import { startCpuMeter } from '../src/proc/cpu-meter';
import type { CpuReport } from '../src/proc/cpu-meter';
import { cpuPerFrameMicros, judgeTargets } from '../src/report/targets';
import type { PassResult, S2Level } from '../src/scenarios/results';

/** Runs `code` in a fresh node for about `ms` and returns the meter's report over it. */
async function meterChild(code: string, ms: number): Promise<CpuReport> {
  const child = spawn(process.execPath, ['-e', `const end = Date.now() + ${ms}; ${code}`], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  await new Promise((r) => setTimeout(r, 300)); // past node's start-up
  // stopped while the child still runs: a process that is gone reads as no CPU at all
  const meter = startCpuMeter([{ label: 'server-0', group: 'server', pid: child.pid! }]);
  await new Promise((r) => setTimeout(r, ms - 500));
  const report = meter.stop();
  await exited;
  return report;
}

describe('CPU meter split', () => {
  it('puts a busy loop in user mode and system calls in kernel mode', async () => {
    const user = await meterChild('while (Date.now() < end) {}', 1500);
    const kernel = await meterChild(
      "const fs = require('node:fs'); const b = Buffer.alloc(65536); const fd = fs.openSync('/dev/zero', 'r'); while (Date.now() < end) fs.readSync(fd, b, 0, b.length, 0);",
      1500,
    );
    expect(user.byGroup.server).toBeGreaterThan(20);
    expect(user.byGroupKernel!.server!).toBeLessThan(user.byGroup.server! / 2);
    expect(kernel.byGroupKernel!.server!).toBeGreaterThan(kernel.byGroup.server! / 4);
    expect(kernel.byGroupKernel!.server!).toBeLessThanOrEqual(kernel.byGroup.server!);
  });
});

function level(server: number, kernel: number, machine = 120): S2Level {
  const cpu: CpuReport = { seconds: 4, byProcess: {}, byGroup: { server }, byGroupKernel: { server: kernel }, machine, other: 0, steal: 0, cores: 2 };
  const latency = { count: 1, p50: 1, p99: 2, p999: 3, max: 4 };
  return {
    offered: 20_000,
    offeredEventsPerSec: 2000,
    achievedEventsPerSec: 2000,
    deliveredPerSec: 20_000,
    receivedPerSec: 20_000,
    deliveredRatio: 1,
    latency,
    p99ByTenth: {},
    p99TenthsMedian: 2,
    p99TenthsMax: 2,
    cpu,
    server: { gcMs: 0, gcCount: 0, loopDelayP99Ms: 0, loopDelayMaxMs: 0, scriptUsecPerCall: 0, scriptCallsPerSec: 0, redisCommandPercent: 0 },
    publisherLagMs: 0,
    publisherErrors: 0,
    lostConnections: 0,
    loadgenStallMs: 0,
    saturated: 0,
  };
}

function judge(ours: S2Level, ceiling: S2Level) {
  const pass = (l: S2Level): PassResult => ({ system: 'x', run: 1, seconds: 1, errors: [], s2: { connect: { opened: 1, failed: 0, elapsedMs: 1, errors: [] }, levels: { '20000': l }, maxDeliveredPerSec: 20_000, stoppedBecause: '' } });
  const rows = judgeTargets(FULL, { ours: { name: 'ours', passes: [], median: pass(ours) }, ceiling: { name: 'ceiling', passes: [], median: pass(ceiling) } } as never);
  return rows.find((r) => r.target.includes('issue 12 item 1'))!;
}

describe('issue 12 item 1 target row', () => {
  it('splits µs per frame by mode', () => {
    expect(cpuPerFrameMicros(level(30, 20), 'user')).toBe(5);
    expect(cpuPerFrameMicros(level(30, 20), 'kernel')).toBe(10);
  });

  it('passes at 0.8x and under', () => {
    expect(judge(level(24, 16), level(30, 20)).result).toBe('pass');
  });

  it('bounds a miss with the run\'s own kernel share and the user time that would have to vanish', () => {
    const row = judge(level(33, 21), level(30.5, 20));
    expect(row.result).toBe('miss');
    expect(row.bound).toContain('65.36% of its total: 10 of 15.3 µs per delivered frame');
    expect(row.bound).toContain('ours spends 10.5 µs per frame in the kernel vs the ceiling\'s 10');
    expect(row.bound).toContain('our user time would have to fall from 6 to 1.74 µs per frame');
  });

  it('says when our kernel time alone is over the budget', () => {
    expect(judge(level(40, 30), level(30.5, 20)).bound).toContain('even with no user-space work at all');
  });

  it('leaves it undecided on a saturated machine', () => {
    const row = judge(level(20, 14, 195), level(30.5, 20));
    expect(row.result).toBe('n/a');
    expect(row.bound).toContain("the machine was saturated during ours' window");
  });
});
