/**
 * Says what bounded a measurement, from the CPU shares taken during it: a saturated machine, one
 * process at a full core (Node runs JavaScript on one thread), a publisher that fell behind, or none.
 */
import type { CpuReport } from '../proc/cpu-meter';

const GROUP_NAMES: Record<string, string> = {
  server: 'server node',
  api: 'API',
  redis: 'Redis',
  publisher: 'publisher',
  loadgen: 'load generator',
  orchestrator: 'orchestrator',
};

function groupOf(label: string): string {
  if (label.startsWith('loadgen') || label === 'http-loadgen') return 'load generator';
  if (label.startsWith('publisher')) return 'publisher';
  if (label === 'redis') return 'Redis';
  if (label.endsWith('-api')) return 'API';
  if (label.includes('-node')) return 'server node';
  return GROUP_NAMES[label] ?? label;
}

/** A one-line account of what limited a window, given its CPU report. */
export function describeBound(
  cpu: CpuReport | undefined,
  extra: { publisherLagMs?: number; achievedRatio?: number; loadgenStallMs?: number } = {},
): string {
  if (!cpu) return 'no CPU data';
  const parts: string[] = [];
  const capacity = cpu.cores * 100;
  const busiest = Object.entries(cpu.byProcess).sort((a, b) => b[1] - a[1]);
  const saturated = busiest.filter(([, pct]) => pct >= 85);
  if (cpu.machine >= capacity * 0.9) {
    const top = busiest.slice(0, 3).map(([label, pct]) => `${label} ${r1(pct)}%`).join(', ');
    parts.push(`machine saturated (${r1(cpu.machine)}% of ${capacity}%; ${top})`);
  }
  for (const [label, pct] of saturated) parts.push(`${groupOf(label)} ${label} at ${r1(pct)}% of a core (one JS thread: CPU-bound)`);
  if (cpu.other >= 20) parts.push(`${r1(cpu.other)}% of a core used by other work on the machine`);
  if ((cpu.steal ?? 0) >= 5) parts.push(`${r1(cpu.steal)}% of a core stolen by the hypervisor`);
  if ((extra.loadgenStallMs ?? 0) >= 20) {
    parts.push(`a load generator's event loop stalled for up to ${extra.loadgenStallMs} ms (GC or CPU starvation): latency that is the client's, not the server's`);
  }
  if ((extra.publisherLagMs ?? 0) > 100 || (extra.achievedRatio ?? 1) < 0.95) {
    parts.push(`publishers fell behind the offered rate (lag ${extra.publisherLagMs} ms, ${Math.round((extra.achievedRatio ?? 1) * 100)}% of the rate sent)`);
  }
  if (parts.length === 0) {
    const top = busiest.slice(0, 2).map(([label, pct]) => `${label} ${pct}%`).join(', ');
    const busy = busiest.filter(([, pct]) => pct >= 5).length;
    if (cpu.machine >= capacity * 0.4) {
      return `CPU contention: ${busy} busy processes share ${cpu.cores} cores (machine ${cpu.machine}% of ${capacity}%; busiest ${top}), so wake-up delays add to the tail; no single process saturated`;
    }
    return `no process saturated (busiest: ${top}; machine ${cpu.machine}% of ${capacity}%): the time is in the system's own path`;
  }
  return parts.join('; ');
}

/** One decimal: medians over an even number of passes are means of two figures and print float noise. */
function r1(value: number): number {
  return Math.round(value * 10) / 10;
}
