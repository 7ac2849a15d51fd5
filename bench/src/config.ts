/**
 * Every size, rate and duration of a bench run, in one place. Both modes are bounded: the full run
 * finishes in about 25-30 minutes on two cores, the smoke run (CI, every submission) in about a minute.
 */

/** Sizes, rates and durations of a run. */
export interface BenchConfig {
  mode: 'full' | 'smoke';
  /** Independent passes per system; every figure is the median over them. */
  runs: number;
  /** Load-generator processes, each holding a share of the connections. */
  loadgens: number;
  /** Publisher processes, each offering a share of the rate over its share of the tasks. */
  publishers: number;
  /** Concurrent WebSocket handshakes per load generator. */
  connectConcurrency: number;
  /** Hard stop for the whole bench; passes that would start after it are skipped and reported. */
  deadlineMinutes: number;
  s1: {
    /** Connection counts to ramp through on one node; the first is the guide's 10,000. */
    steps: number[];
    /** The ramp stops starting new steps after this long. */
    maxSeconds: number;
    /** Idle time before memory is read after a step. */
    settleMs: number;
    /** Window over which the node's idle CPU is read, after the first step. */
    idleCpuMs: number;
    /** Tasks per connection of the subscribed steps (a fresh node each, the first step's connection count). */
    subscribedTasks: number[];
  };
  s2: {
    connections: number;
    /** Subscribers per task. */
    fanout: number;
    /** Offered load in deliveries per second (events/s x fanout). */
    levels: number[];
    warmupMs: number;
    windowMs: number;
    drainMs: number;
    /** Unacknowledged publishes per publisher before pacing waits. */
    maxInflight: number;
  };
  s3: {
    /** Probes measured per case (the 5,000-connection case: `bigProjectProbes`), after `warmupProbes` unmeasured ones. */
    probes: number;
    bigProjectProbes: number;
    warmupProbes: number;
    /** Connections of the broadcast user, and of the two projects. */
    userConnections: number;
    projectConnections: number;
    bigProjectConnections: number;
    /** S3 split: load-generator processes holding only the two project audiences (0: not run). */
    splitLoadgens: number;
    /** Gap between probes, by case; long enough that probes do not overlap. */
    intervalMs: { task: number; user: number; project: number; bigProject: number };
  };
  s4: {
    connections: number;
    warmupSeconds: number;
    seconds: number;
    tasks: number;
    historyEvents: number;
    /**
     * Open loop: requests due at these fixed rates (req/s), whatever the answers do, per endpoint; the rate
     * is shared by `processes` client processes (so one client's stall is not the whole load's), each with
     * up to maxSockets connections.
     */
    openLoop: { rates: number[]; warmupSeconds: number; seconds: number; maxSockets: number; processes: number };
  };
  /** Scale-out (ours): the same load per gateway on 1, 2, 4 gateways; S2's fan-out and windows. */
  scaleOut: {
    gateways: number[];
    targets: Array<'single' | 'cluster'>;
    connectionsPerGateway: number;
    /** Offered deliveries per second per gateway. */
    deliveriesPerGateway: number;
    loadgensPerGateway: number;
    publishers: number;
  };
  /** S7 (ours, once after the passes): stored+published events/s vs the PUBLISH floor (scenarios/publish-rate.ts). */
  s7: { seconds: number; rounds: number; batch: number };
}

/** `npm run bench`: the sizes, median of 3 passes. */
export const FULL: BenchConfig = {
  mode: 'full',
  runs: 3,
  loadgens: 4,
  publishers: 2,
  connectConcurrency: 50,
  deadlineMinutes: 40,
  s1: { steps: [10_000, 15_000, 20_000, 25_000, 30_000], maxSeconds: 60, settleMs: 2000, idleCpuMs: 3000, subscribedTasks: [1, 5] },
  s2: {
    connections: 10_000,
    fanout: 10,
    // The 1k, 5k, 10k and 20k, then doubling until saturated, for the highest delivered rate.
    levels: [1000, 5000, 10_000, 20_000, 40_000, 80_000, 160_000],
    warmupMs: 1500,
    windowMs: 4000,
    drainMs: 1000,
    maxInflight: 2000,
  },
  s3: {
    probes: 100,
    bigProjectProbes: 50,
    warmupProbes: 10,
    userConnections: 10,
    projectConnections: 1000,
    bigProjectConnections: 5000,
    splitLoadgens: 8,
    intervalMs: { task: 20, user: 20, project: 50, bigProject: 150 },
  },
  s4: {
    connections: 100,
    warmupSeconds: 1,
    seconds: 5,
    tasks: 100,
    historyEvents: 100,
    openLoop: { rates: [1000, 5000, 10_000], warmupSeconds: 1, seconds: 3, maxSockets: 128, processes: 2 },
  },
  scaleOut: { gateways: [1, 2, 4], targets: ['single', 'cluster'], connectionsPerGateway: 2500, deliveriesPerGateway: 10_000, loadgensPerGateway: 1, publishers: 2 },
  s7: { seconds: 3, rounds: 3, batch: 100 },
};

/** `npm run bench:smoke`: tiny sizes, one pass, so CI keeps the harness alive. */
export const SMOKE: BenchConfig = {
  mode: 'smoke',
  runs: 1,
  loadgens: 2,
  publishers: 1,
  connectConcurrency: 20,
  deadlineMinutes: 2.75,
  s1: { steps: [200, 400], maxSeconds: 10, settleMs: 300, idleCpuMs: 300, subscribedTasks: [1, 5] },
  s2: { connections: 200, fanout: 10, levels: [1000, 2000], warmupMs: 300, windowMs: 1000, drainMs: 300, maxInflight: 500 },
  s3: {
    probes: 15,
    bigProjectProbes: 10,
    warmupProbes: 3,
    userConnections: 10,
    projectConnections: 50,
    bigProjectConnections: 100,
    splitLoadgens: 2,
    intervalMs: { task: 10, user: 10, project: 15, bigProject: 20 },
  },
  s4: {
    connections: 10,
    warmupSeconds: 0.5,
    seconds: 1,
    tasks: 10,
    historyEvents: 100,
    openLoop: { rates: [200], warmupSeconds: 0.3, seconds: 1, maxSockets: 32, processes: 2 },
  },
  scaleOut: { gateways: [1, 2], targets: ['single'], connectionsPerGateway: 100, deliveriesPerGateway: 500, loadgensPerGateway: 1, publishers: 1 },
  s7: { seconds: 0.5, rounds: 1, batch: 20 },
};
