/**
 * A system under test, started for one pass: its server nodes (and for ours, the API), as processes the
 * CPU meter follows. The three drivers (ours, Socket.IO, the bare ceiling) differ only in what they start.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startTsProcess, type ManagedProcess } from '@taskpulse/testkit';
import type { WireName } from '../control/commands';
import type { TrackedProcess } from '../proc/cpu-meter';
import type { SystemName } from '../publisher/sender';
import type { HistogramData } from '../stats/histogram';

export type { SystemName };

/** Server-side fan-out histograms (microseconds) summed over the nodes, by target kind. */
export type FanoutData = Record<'task' | 'user' | 'project', HistogramData>;

/** A started system: its nodes, its processes, how to read its fan-out time and stop it. */
export interface RunningSystem {
  name: SystemName;
  wire: WireName;
  /** `ws://127.0.0.1:port` of each node. */
  nodes: string[];
  /** The server processes, for CPU and memory. */
  processes: TrackedProcess[];
  /** The wrapper pid of each node (memory is read from its tree). */
  nodePids: number[];
  /** Starts the HTTP API (ours only) and returns its base URL. */
  startApi?(): Promise<{ url: string; process: TrackedProcess }>;
  /** Server-side fan-out time since the last call, when the servers measure it (the peers do). */
  fanout(): Promise<FanoutData[] | null>;
  stop(): Promise<void>;
}

/** The Redis, key prefix and node count a system is started with. */
export interface StartOptions {
  redisUrl: string;
  prefix: string;
  nodes: number;
}

/** How to start one system, and whether this checkout can. */
export interface SystemDriver {
  name: SystemName;
  label: string;
  wire: WireName;
  /** Why this system cannot run in this checkout, or null when it can. */
  missing(): string | null;
  start(options: StartOptions): Promise<RunningSystem>;
}

/** The bench workspace and the repository root, wherever the bench is started from. */
export const benchRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const repoRoot = resolve(benchRoot, '..');

/** Absolute path of a file in the repository, and whether it exists. */
export function repoFile(relative: string): { path: string; exists: boolean } {
  const path = resolve(repoRoot, relative);
  return { path, exists: existsSync(path) };
}

/** One server process and where it listens. */
export interface StartedNode {
  url: string;
  port: number;
  process: ManagedProcess;
}

/**
 * V8 settings of every server node, ours and the peers alike: the gateway's production setting (README,
 * "Running the cluster"). A WebSocket node allocates little per frame, so a small young generation costs
 * no CPU and keeps the heap from reserving tens of MB that would read as memory per connection.
 */
export const SERVER_NODE_ARGS = ['--max-semi-space-size=4'];

/** With BENCH_CPU_PROF_DIR set, every server node writes a V8 CPU profile there when it exits (speed work). */
function serverNodeArgs(): string[] {
  const dir = process.env.BENCH_CPU_PROF_DIR;
  return dir ? [...SERVER_NODE_ARGS, '--cpu-prof', `--cpu-prof-dir=${dir}`] : SERVER_NODE_ARGS;
}

/** Starts `count` server processes of one file, each on a free port, and waits until each says it listens. */
export async function startNodes(
  file: string,
  count: number,
  env: (index: number, port: number) => Record<string, string>,
  timeoutMs = 30_000,
): Promise<StartedNode[]> {
  const nodes: StartedNode[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const port = await freePort();
      const proc = startTsProcess(file, { PORT: String(port), ...env(i, port) }, [], serverNodeArgs());
      nodes.push({ url: `ws://127.0.0.1:${port}`, port, process: proc });
    }
    await Promise.all(nodes.map((n) => n.process.waitForOutput(/listening/i, timeoutMs)));
    return nodes;
  } catch (error) {
    await Promise.all(nodes.map((n) => n.process.kill()));
    throw error;
  }
}

/** Reads `/bench/fanout` from each node of a peer. */
export async function readPeerFanout(nodes: StartedNode[]): Promise<FanoutData[]> {
  return Promise.all(nodes.map(async (n) => (await (await fetch(`http://127.0.0.1:${n.port}/bench/fanout`)).json()) as FanoutData));
}

/** The RunningSystem parts every driver shares. */
export function runningNodes(name: SystemName, wire: WireName, nodes: StartedNode[]) {
  return {
    name,
    wire,
    nodes: nodes.map((n) => n.url),
    processes: nodes.map((n, i): TrackedProcess => ({ label: `${name}-node${i}`, group: 'server', pid: n.process.child.pid! })),
    nodePids: nodes.map((n) => n.process.child.pid!),
  };
}
