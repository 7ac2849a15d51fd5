/** What each scenario measures, per system and pass; the report takes the median over passes. */
import type { CpuReport } from '../proc/cpu-meter';
import type { LatencySummary } from '../stats/histogram';
import type { ScaleOutStep } from './scale-out';
import type { ServerProbeReport } from './server-probes';

/** One step of the connection ramp. */
export interface S1Step {
  target: number;
  /** Connections open after the step. */
  held: number;
  failed: number;
  elapsedMs: number;
  /** New connections per second during the step. */
  ratePerSec: number;
  /** Resident memory of the node after the step settled. */
  rssMB: number;
}

/** S1 for one system and pass. */
export interface S1Result {
  steps: Record<string, S1Step>;
  /** Connections per second while ramping to the first step (10,000 in the full run). */
  connectRatePerSec: number;
  maxHeld: number;
  baselineRssMB: number;
  /** Node memory growth per 1,000 idle connections at the first step, and at the largest. */
  rssPer1kIdleKB: number;
  rssPer1kIdleAtMaxKB: number;
  /** Growth from the first to the largest step per 1,000 connections: one-time costs cancel out. */
  rssMarginalPer1kKB: number;
  stoppedBecause: string;
  /** The node's CPU (% of a core) over `s1.idleCpuMs` with the first step's connections idle, and per 1,000 of them. */
  idleCpuPct: number;
  idleCpuPer1kPct: number;
  /** CPU during the ramp to the first step. */
  cpu: CpuReport;
  errors: string[];
}

/** A fresh node holding connections each subscribed to `tasksEach` tasks. */
export interface S1Subscribed {
  tasksEach: number;
  connections: number;
  failed: number;
  /** Connect and subscribe of all of them, ms. */
  elapsedMs: number;
  /** Node memory growth per 1,000 subscribed connections, KB. */
  rssPer1kKB: number;
  rssMB: number;
  errors: string[];
}

/** One offered-load level of S2. */
export interface S2Level {
  /** Offered deliveries per second (events per second x fanout). */
  offered: number;
  offeredEventsPerSec: number;
  /** Events per second the publishers actually sent inside the window. */
  achievedEventsPerSec: number;
  /** Frames sent inside the window that reached a client, per second of window. */
  deliveredPerSec: number;
  /** Frames received inside the window, whenever sent. */
  receivedPerSec: number;
  /** Delivered over expected (sent x subscribers). */
  deliveredRatio: number;
  latency: LatencySummary;
  /** p99 (ms) of the frames sent in each tenth of the window, by tenth ('1'..'10'). */
  p99ByTenth: Record<string, number>;
  /** Steady state: the median and the largest of the tenths' p99 after the first tenth. */
  p99TenthsMedian: number;
  p99TenthsMax: number;
  cpu: CpuReport;
  /** GC and event-loop delay of the nodes (ours only), Redis time per publish script and busy share. */
  server: ServerProbeReport;
  publisherLagMs: number;
  publisherErrors: number;
  /** Connections closed by the server so far (e.g. as slow consumers). */
  lostConnections: number;
  /** Longest event-loop stall of any load generator in the window, ms. */
  loadgenStallMs: number;
  saturated: number;
}

/** S2 for one system and pass. */
export interface S2Result {
  connect: { opened: number; failed: number; elapsedMs: number; errors: string[] };
  levels: Record<string, S2Level>;
  maxDeliveredPerSec: number;
  stoppedBecause: string;
}

/** One broadcast case of S3. */
export interface S3Case {
  expectedReceivers: number;
  probes: number;
  /** Probes that reached every expected receiver. */
  complete: number;
  /** Per probe: from the publisher's call to the last receiving client. */
  toLast: LatencySummary;
  toFirst: LatencySummary;
  /** Per probe: last receive minus first receive. */
  spread: LatencySummary;
  /** Every single delivery. */
  perClient: LatencySummary;
  /** Per node and message: time the server spent handing it to its local sockets (the peers measure it). */
  serverFanout: LatencySummary | null;
  cpu: CpuReport;
  /** Gap between probes actually used (configured, or longer after slow warm-up probes). */
  intervalMs: number;
  publisherErrors: number;
  loadgenStallMs: number;
}

/** One endpoint of S4. */
export interface S4Endpoint {
  path: string;
  rps: number;
  latency: LatencySummary;
  non2xx: number;
  errors: number;
  cpu: CpuReport;
}

/** One endpoint at one fixed offered rate (S4 open loop). */
export interface S4OpenLoop {
  endpoint: string;
  path: string;
  /** Requests due per second. */
  offered: number;
  /** Requests due inside the window and answered, per second of window. */
  served: number;
  /** From a request's scheduled send time to its last response byte (client lateness and queueing included). */
  latency: LatencySummary;
  non2xx: number;
  errors: number;
  /** Requests still unanswered after the drain: the API fell behind the offered rate. */
  unanswered: number;
  /** Keep-alive connections the client needed. */
  sockets: number;
  /** Longest lateness of the client's own 1 ms tick behind a request's due time (counted in the latency). */
  clientLagMs: number;
  /** The client processes' own stalls over the window: worst event-loop delay p99 and max, GC pauses summed (ms). */
  client?: { processes: number; loopDelayP99Ms: number; loopDelayMaxMs: number; gcMs: number; gcCount: number };
  /**
   * The API's own figures over the window: its request-duration histogram (2xx of the route; the bucket bounds
   * holding p50/p99), GC pauses summed, event-loop delay p99/max (ms).
   */
  server?: { count: number; p50UpToMs: number; p99UpToMs: number; gcMs: number; gcCount: number; loopDelayP99Ms: number; loopDelayMaxMs: number };
  cpu: CpuReport;
}

/** Everything one pass of one system measured. */
export interface PassResult {
  system: string;
  run: number;
  seconds: number;
  s1?: S1Result;
  /** S1 with subscribed connections, by tasks per connection ('1', '5'). */
  s1Subscribed?: Record<string, S1Subscribed>;
  s2?: S2Result;
  s3?: Record<string, S3Case>;
  /** The project broadcasts with their receivers alone on `s3.splitLoadgens` load generators. */
  s3split?: Record<string, S3Case>;
  s4?: Record<string, S4Endpoint>;
  /** Keyed `<target>x<gateways>`. */
  scaleOut?: Record<string, ScaleOutStep>;
  /** Keyed `<endpoint>@<rate>`. */
  s4open?: Record<string, S4OpenLoop>;
  errors: string[];
}
