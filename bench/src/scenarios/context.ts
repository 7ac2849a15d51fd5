/** What every scenario of a pass is given. */
import type { BenchConfig } from '../config';
import type { ControlHub } from '../control/control-hub';
import type { TrackedProcess } from '../proc/cpu-meter';
import type { SystemDriver } from '../systems/system';

/** The run-wide things a scenario needs. */
export interface PassContext {
  config: BenchConfig;
  hub: ControlHub;
  driver: SystemDriver;
  run: number;
  /** The orchestrator itself, so its CPU shows too. */
  self: TrackedProcess;
  /** Largest connection count one node may hold (file descriptors). */
  maxConnections: number;
  /** The scenarios to run (`s1`..`s4`, lower case; `--scenarios=`), all by default. */
  scenarios: Set<string>;
  log(message: string): void;
}

/** Bytes to MB with one decimal. */
export function mb(bytes: number): number {
  return Math.round((bytes / 1024 / 1024) * 10) / 10;
}
