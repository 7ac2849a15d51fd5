/**
 * The commands the orchestrator sends to its children, with their arguments and answers. Times are
 * microseconds on the shared monotonic clock (clock.ts).
 */
import type { HistogramData } from '../stats/histogram';

/** A map of command name to its argument and result types. */
export type CommandMap = Record<string, { args: unknown; result: unknown }>;

/** How a load generator speaks to a server. */
export type WireName = 'taskpulse' | 'socketio';

/** One connection a load generator should open: node index, identity and the tasks it subscribes to. */
export type ConnSpec = [node: number, userId: string, projectId: string, tasks: string[]];

/** How a connect command went. */
export interface ConnectResult {
  opened: number;
  failed: number;
  /** The first few failure reasons. */
  errors: string[];
  elapsedMs: number;
}

/** Per broadcast probe, from one load generator: [send time, receivers, latest receive - send, earliest]. */
export type ProbeRow = [sendMicros: number, receivers: number, lastMicros: number, firstMicros: number];

/** What a load generator measured since `measure`. */
export interface CollectResult {
  /** Latency of every marked frame sent inside the window. */
  latency: HistogramData;
  /** The same, split by send time into ten equal parts of the window (stream mode; empty otherwise). */
  latencyTenths: HistogramData[];
  /** Marked frames sent inside the window (and received by now). */
  delivered: number;
  /** Marked frames received inside the window, whenever sent. */
  receivedInWindow: number;
  probes: ProbeRow[];
  /** Connections that closed without being asked to. */
  lost: number;
  /** Longest event-loop stall of this load generator since `measure` (GC, CPU starvation), ms. */
  stallMs: number;
}

/** Commands a load-generator process takes. */
export type LoadgenCommands = {
  connect: {
    args: {
      wire: WireName;
      nodes: string[];
      conns: ConnSpec[];
      concurrency: number;
      localAddress?: string;
      /** Per connection: handshake and every subscribe ack. */
      timeoutMs: number;
      /** No new connection is started after this long; the rest count as failed. */
      deadlineMs: number;
    };
    result: ConnectResult;
  };
  measure: { args: { mode: 'stream' | 'probe' | 'off'; start: number; end: number }; result: null };
  collect: { args: null; result: CollectResult };
  closeAll: { args: null; result: { closed: number } };
  status: { args: null; result: { open: number; lost: number } };
};

/** A task to start before load: [task, user, project]. */
export type TaskOwner = [taskId: string, userId: string, projectId: string];

/** How a paced publishing run went. */
export interface StreamResult {
  sent: number;
  sentInWindow: number;
  errors: number;
  firstError?: string;
  /** Events per second actually offered inside the window. */
  achievedRate: number;
  /** Largest delay of the pacing loop behind its schedule, ms (a saturated publisher shows here). */
  maxLagMs: number;
}

/** What a probe goes to: a task's subscribers, a user's or a project's connections. */
export type ProbeKind = 'task' | 'user' | 'project';

/** Commands a publisher process takes. */
export type PublisherCommands = {
  startTasks: { args: { tasks: TaskOwner[] }; result: { ms: number; errors: number } };
  stream: {
    args: { rate: number; tasks: string[]; windowStart: number; windowEnd: number; maxInflight: number };
    result: StreamResult;
  };
  probe: {
    args: { kind: ProbeKind; target: string; taskId: string; count: number; intervalMs: number };
    result: { sendTimes: number[]; errors: number; firstError?: string };
  };
  prefill: { args: { tasks: string[]; events: number }; result: { ms: number; errors: number } };
};
