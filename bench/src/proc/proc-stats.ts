/**
 * What the kernel says about our processes: CPU time (utime + stime from /proc/<pid>/stat), resident
 * memory, a process and its descendants (tsx runs the script in a child of the pid we spawned), and the
 * whole machine's busy time, so load from outside the benchmark shows up in the report.
 */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc times (getconf CLK_TCK; 100 on Linux everywhere we run). */
export const CLOCK_TICKS = 100;

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** The pid and all its living descendants. */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const visit = (p: number) => {
    out.push(p);
    const children = read(`/proc/${p}/task/${p}/children`);
    if (!children) return;
    for (const c of children.trim().split(/\s+/)) if (c) visit(Number(c));
  };
  visit(pid);
  return out;
}

/** CPU time of one process in clock ticks, split as the kernel counts it: user mode and kernel mode. */
export interface CpuTicks {
  /** utime: the process's own code (JavaScript, V8, libuv, native add-ons). */
  user: number;
  /** stime: system calls and what the kernel does on their behalf (on loopback, TCP delivery to the receiver too). */
  kernel: number;
}

/** utime and stime of one process in clock ticks, zeros when it is gone. */
export function cpuTicksSplit(pid: number): CpuTicks {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return { user: 0, kernel: 0 };
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]), kernel: Number(fields[12]) };
}

/** utime + stime of one process in clock ticks, 0 when it is gone. */
export function cpuTicks(pid: number): number {
  const { user, kernel } = cpuTicksSplit(pid);
  return user + kernel;
}

/** Summed user and kernel ticks of a process tree. */
export function treeCpuTicksSplit(pid: number): CpuTicks {
  const total = { user: 0, kernel: 0 };
  for (const p of processTree(pid)) {
    const t = cpuTicksSplit(p);
    total.user += t.user;
    total.kernel += t.kernel;
  }
  return total;
}

/** Summed CPU ticks of a process tree. */
export function treeCpuTicks(pid: number): number {
  const { user, kernel } = treeCpuTicksSplit(pid);
  return user + kernel;
}

/** Resident set size of one process in bytes, 0 when it is gone. */
export function rssBytes(pid: number): number {
  const status = read(`/proc/${pid}/status`);
  const match = status?.match(/^VmRSS:\s+(\d+)\s+kB/m);
  return match ? Number(match[1]) * 1024 : 0;
}

/** Resident memory of the process in a tree that holds the most (the server, not the tsx wrapper). */
export function serverRssBytes(pid: number): number {
  let best = 0;
  for (const p of processTree(pid)) best = Math.max(best, rssBytes(p));
  return best;
}

/** Busy, stolen (by the hypervisor) and total ticks of the whole machine, all cores (/proc/stat). */
export function machineTicks(): { busy: number; steal: number; total: number } {
  const line = read('/proc/stat')?.split('\n')[0] ?? 'cpu 0 0 0 0';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const steal = v[7] ?? 0;
  return { busy: total - idle - steal, steal, total };
}
