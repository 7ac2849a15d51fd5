/** Everything one bench run produced: the raw passes, the medians per system, the targets. */
import { cpus, totalmem, loadavg, release } from 'node:os';
import type { BenchConfig } from '../config';
import type { PassResult } from '../scenarios/results';
import type { SystemName } from '../publisher/sender';
import { medianOfRuns } from '../stats/median';
import type { PublishRateResult } from '../scenarios/publish-rate';

/** One system's passes and their median. */
export interface SystemReport {
  name: SystemName;
  label: string;
  /** Why the system did not run, when it did not. */
  skipped?: string;
  passes: PassResult[];
  /** Field-by-field median over the passes. */
  median?: PassResult;
}

/** The machine the figures were taken on. */
export interface MachineInfo {
  cores: number;
  model: string;
  memoryGB: number;
  node: string;
  kernel: string;
  loadAverageAtStart: number[];
  openFilesLimit: number;
}

/** One row of the targets table. */
export interface TargetRow {
  target: string;
  measured: string;
  goal: string;
  result: 'pass' | 'miss' | 'n/a';
  /** For a miss: what the measurement was bounded by. */
  bound: string;
}

/** The whole run, as written to `<timestamp>.json`. */
export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  seconds: number;
  config: BenchConfig;
  machine: MachineInfo;
  systems: Partial<Record<SystemName, SystemReport>>;
  targets: TargetRow[];
  notes: string[];
  /** S7, run once after the passes (absent when not selected or in reports of earlier runs). */
  publishRate?: PublishRateResult;
}

/** Cores, memory, Node, kernel and load at the start of the run. */
export function machineInfo(openFilesLimit: number): MachineInfo {
  const list = cpus();
  return {
    cores: list.length,
    model: list[0]?.model ?? 'unknown',
    memoryGB: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    kernel: release(),
    loadAverageAtStart: loadavg().map((v) => Math.round(v * 100) / 100),
    openFilesLimit,
  };
}

/** Fills in the medians of a system's passes. */
export function withMedian(system: SystemReport): SystemReport {
  return system.passes.length ? { ...system, median: medianOfRuns(system.passes) } : system;
}
