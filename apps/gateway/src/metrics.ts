/**
 * The gateway's Prometheus metrics, registered on a registry passed in (or one per gateway), so two
 * gateways in one process never collide. Names follow `taskpulse_gateway_<name>_<unit>`; labels are
 * low-cardinality only (a channel kind, an error code, an engine operation), never a task or user id.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ErrorCode } from '@taskpulse/protocol';
import { TOKEN_REASONS } from '@taskpulse/auth';
import { DeliveryLatency } from './delivery-latency';

/** Which kind of channel a frame came from. */
export type ChannelKind = 'task' | 'user' | 'project';
const CHANNEL_KINDS: readonly ChannelKind[] = ['task', 'user', 'project'];

/** Engine calls whose background failures are counted. */
export type EngineOperation = 'subscribe' | 'unsubscribe' | 'read' | 'report_node' | 'remove_node' | 'save_session';

export interface GatewayMetrics {
  registry: Registry;
  connections: Gauge;
  subscriptions: Gauge;
  /**
   * Frames handed to uWebSockets.js for fan-out, by channel kind: plain numbers the hot path adds to,
   * turned into the counter `taskpulse_gateway_frames_fanned_out_total` when metrics are collected.
   */
  fannedOut: Record<ChannelKind, number>;
  /** Bytes of those frames (once per fan-out, not per socket), exported as `taskpulse_gateway_fanned_out_bytes_total`. */
  fannedOutBytes: Record<ChannelKind, number>;
  /** Publish-to-fan-out latency from each frame's `published_at` (delivery-latency.ts). */
  deliveryLatency: DeliveryLatency;
  /** Subscribes that asked to resume from a position, by result: recovered (every missed frame replayed) or not_recovered (latest state). */
  resumes: Counter<'result'>;
  /**
   * Seconds one user or project broadcast takes to be written to every local socket subscribed to it
   * (`app.publish`), by kind. Task frames are not timed: they are the hot path, and each reaches few sockets.
   */
  broadcastFanout: Histogram<'kind'>;
  /** Error frames and HTTP error answers sent, by code. */
  errors: Counter<'code'>;
  slowConsumerCloses: Counter;
  /** Sockets past the soft backpressure limit, off their topics and conflating (slow-sockets.ts). */
  slowSockets: Gauge;
  /** Progress frames replaced by a newer one while waiting on a slow socket. */
  conflatedFrames: Counter;
  /** Connections closed with 4001 because they answered no ping (dead-peers.ts). */
  heartbeatCloses: Counter;
  /** Connections closed with 1009 for a client frame over the hard cap. */
  tooBigCloses: Counter;
  policyCloses: Counter;
  engineFailures: Counter<'operation'>;
  /** Upgrades refused by auth, by reason: a token reason (expired, bad_signature, …), origin, query_identity, resume_owner. */
  authRefusals: Counter<'reason'>;
  /** Connections closed with 4502 because their token expired without a refresh. */
  tokenExpiredCloses: Counter;
  /** Counts one error answer with this code. */
  countError(code: ErrorCode): void;
}

/** Creates and registers the gateway's metrics on `registry` (a fresh one when omitted). */
export function createGatewayMetrics(registry: Registry = new Registry()): GatewayMetrics {
  const registers = [registry];
  const connections = new Gauge({ name: 'taskpulse_gateway_connections', help: 'Open WebSocket connections.', registers });
  const subscriptions = new Gauge({
    name: 'taskpulse_gateway_subscriptions',
    help: 'Task subscriptions held by open connections (live or being set up).',
    registers,
  });
  const fannedOut = countedByKind(
    registry,
    'taskpulse_gateway_frames_fanned_out_total',
    'Frames received from the engine and published to the sockets subscribed to their channel (once per fan-out).',
  );
  const fannedOutBytes = countedByKind(
    registry,
    'taskpulse_gateway_fanned_out_bytes_total',
    'Bytes of the frames published to subscribed sockets, counted once per fan-out (not multiplied by the sockets reached).',
  );
  const resumes = new Counter({
    name: 'taskpulse_gateway_resumes_total',
    help: 'Subscribes with an offset and epoch, by result: recovered (the missed frames replayed) or not_recovered (the latest state instead).',
    labelNames: ['result'] as const,
    registers,
  });
  for (const result of ['recovered', 'not_recovered']) resumes.inc({ result }, 0);
  const errors = new Counter({
    name: 'taskpulse_gateway_errors_total',
    help: 'Error frames and HTTP error answers sent to clients, by error code.',
    labelNames: ['code'] as const,
    registers,
  });
  const slowConsumerCloses = new Counter({
    name: 'taskpulse_gateway_slow_consumer_closes_total',
    help: 'Connections closed with 4000 because their unsent bytes passed the backpressure limit.',
    registers,
  });
  const slowSockets = new Gauge({
    name: 'taskpulse_gateway_slow_sockets',
    help: 'Sockets past the soft backpressure limit: off their topics, progress frames conflated.',
    registers,
  });
  const conflatedFrames = new Counter({
    name: 'taskpulse_gateway_conflated_frames_total',
    help: 'Progress frames replaced by a newer progress frame of the same task while waiting on a slow socket.',
    registers,
  });
  const heartbeatCloses = new Counter({
    name: 'taskpulse_gateway_heartbeat_closes_total',
    help: 'Connections closed with 4001 (heartbeat_lost) because they answered no ping within two intervals.',
    registers,
  });
  const tooBigCloses = new Counter({
    name: 'taskpulse_gateway_message_too_big_closes_total',
    help: 'Connections closed with 1009 because a client frame was over the hard size cap.',
    registers,
  });
  const policyCloses = new Counter({
    name: 'taskpulse_gateway_policy_closes_total',
    help: 'Connections closed with 4501 after sustained rate-limit violations.',
    registers,
  });
  const engineFailures = new Counter({
    name: 'taskpulse_gateway_engine_failures_total',
    help: 'Engine calls that failed, by operation.',
    labelNames: ['operation'] as const,
    registers,
  });
  const broadcastFanout = new Histogram({
    name: 'taskpulse_gateway_broadcast_fanout_seconds',
    help: 'Time to hand one user or project broadcast to every local subscribed socket.',
    labelNames: ['kind'] as const,
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
    registers,
  });
  const authRefusals = new Counter({
    name: 'taskpulse_gateway_auth_refusals_total',
    help: 'WebSocket upgrades refused by authentication or origin checks, by reason.',
    labelNames: ['reason'] as const,
    registers,
  });
  // Every reason shows from the start (at 0), so a dashboard's rate() sees the first refusal of each.
  for (const reason of [...TOKEN_REASONS, 'origin', 'query_identity', 'resume_owner']) authRefusals.inc({ reason }, 0);
  const tokenExpiredCloses = new Counter({
    name: 'taskpulse_gateway_token_expired_closes_total',
    help: 'Connections closed with 4502 because their token expired without a refresh.',
    registers,
  });
  return {
    registry,
    connections,
    subscriptions,
    fannedOut,
    fannedOutBytes,
    deliveryLatency: new DeliveryLatency(registry),
    resumes,
    broadcastFanout,
    errors,
    slowConsumerCloses,
    slowSockets,
    conflatedFrames,
    heartbeatCloses,
    tooBigCloses,
    policyCloses,
    engineFailures,
    authRefusals,
    tokenExpiredCloses,
    countError: (code) => errors.inc({ code }),
  };
}

/**
 * Plain numbers by channel kind that the hot path adds to, turned into a counter `name{kind}` when metrics
 * are collected (a prom-client inc per frame costs label hashing).
 */
function countedByKind(registry: Registry, name: string, help: string): Record<ChannelKind, number> {
  const counts: Record<ChannelKind, number> = { task: 0, user: 0, project: 0 };
  const reported: Record<ChannelKind, number> = { task: 0, user: 0, project: 0 };
  new Counter({
    name,
    help,
    labelNames: ['kind'] as const,
    registers: [registry],
    collect() {
      for (const kind of CHANNEL_KINDS) {
        this.inc({ kind }, counts[kind] - reported[kind]);
        reported[kind] = counts[kind];
      }
    },
  });
  return counts;
}

/**
 * `taskpulse_gateway_ready`: 1 while /readyz would answer 200, read when scraped; the not-ready alert
 * watches it. The first gateway on a registry owns it.
 */
export function registerReadyGauge(registry: Registry, isReady: () => boolean): void {
  if (registry.getSingleMetric('taskpulse_gateway_ready') !== undefined) return;
  new Gauge({
    name: 'taskpulse_gateway_ready',
    help: '1 while the gateway is ready (engine connected, listening, not draining), else 0.',
    registers: [registry],
    collect() {
      this.set(isReady() ? 1 : 0);
    },
  });
}
