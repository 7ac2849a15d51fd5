/**
 * CPU share of every process of a run over a measured window, in percent of one core (100 = one core
 * fully busy; this machine has two), plus the machine's total and the part of it no benchmark process
 * accounts for (other work on the machine).
 */
import { cpus } from 'node:os';
import { CLOCK_TICKS, cpuTicksSplit, machineTicks, treeCpuTicksSplit, type CpuTicks } from './proc-stats';

/** Which role a process plays; shares are summed per group in the reports. */
export type ProcessGroup = 'server' | 'api' | 'redis' | 'publisher' | 'loadgen' | 'orchestrator';

/** A process whose CPU we follow (its whole tree, as tsx runs the script in a child). */
export interface TrackedProcess {
  label: string;
  group: ProcessGroup;
  pid: number;
  /** Count this process alone, not its descendants (the orchestrator, whose children are all the others). */
  alone?: boolean;
}

/** CPU shares measured over one window. */
export interface CpuReport {
  seconds: number;
  /** Percent of one core, per process label. */
  byProcess: Record<string, number>;
  /** Percent of one core, per group. */
  byGroup: Record<string, number>;
  /**
   * The kernel-mode part (stime) of `byGroup`, percent of one core; the rest is user mode. Optional: results
   * written before it was measured have none.
   */
  byGroupKernel?: Record<string, number>;
  /** Whole machine, percent of one core (max = 100 x cores). */
  machine: number;
  /** Machine busy time no tracked process accounts for. */
  other: number;
  /** Time the hypervisor ran something else on our virtual CPUs, percent of one core. */
  steal: number;
  cores: number;
}

/** Starts measuring now; `stop()` returns the shares since. */
export function startCpuMeter(processes: TrackedProcess[]): { stop(): CpuReport } {
  const t0 = process.hrtime.bigint();
  const m0 = machineTicks();
  const ticks = (p: TrackedProcess): CpuTicks => (p.alone ? cpuTicksSplit(p.pid) : treeCpuTicksSplit(p.pid));
  const start = new Map(processes.map((p) => [p.label, ticks(p)]));
  return {
    stop() {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const m1 = machineTicks();
      const cores = cpus().length;
      const byProcess: Record<string, number> = {};
      const byGroup: Record<string, number> = {};
      const byGroupKernel: Record<string, number> = {};
      const pctOf = (t: number) => (t / CLOCK_TICKS / seconds) * 100;
      let tracked = 0;
      for (const p of processes) {
        const now = ticks(p);
        const then = start.get(p.label) ?? { user: 0, kernel: 0 };
        const kernel = pctOf(now.kernel - then.kernel);
        const pct = round1(pctOf(now.user - then.user) + kernel);
        byProcess[p.label] = pct;
        byGroup[p.group] = round1((byGroup[p.group] ?? 0) + pct);
        byGroupKernel[p.group] = round1((byGroupKernel[p.group] ?? 0) + kernel);
        tracked += pct;
      }
      const totalTicks = m1.total - m0.total || 1;
      const machine = round1(((m1.busy - m0.busy) / totalTicks) * 100 * cores);
      const steal = round1(((m1.steal - m0.steal) / totalTicks) * 100 * cores);
      return { seconds: round1(seconds), byProcess, byGroup, byGroupKernel, machine, other: round1(Math.max(0, machine - tracked)), steal, cores };
    },
  };
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}
