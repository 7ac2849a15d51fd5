/** The options of `createGateway`, their defaults, and the checks that keep uWebSockets.js from aborting. */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { LIMITS } from '@taskpulse/protocol';
import type { Engine } from '@taskpulse/engine';
import type { HttpHandler } from './http-reply';
import { DEFAULT_RATE_LIMIT, type RateLimit } from './rate-limit';

export interface GatewayLimits {
  /** Unsent bytes a socket may have before it is closed as a slow consumer (4000). Default 1 MiB. */
  maxBackpressureBytes: number;
  /**
   * How often buffered bytes are checked, in ms. Default 1000: the scan visits every socket, and at 250 ms
   * it was a sixth of an idle-ish node's CPU (profile under S2); the bound on a slow socket's memory is
   * the limit plus one second of its frames.
   */
  backpressureCheckMs: number;
  /** Task subscriptions per connection. Default LIMITS.subscriptionsPerConnection. */
  subscriptionsPerConnection: number;
  /** Largest client frame; uWebSockets.js closes bigger ones with 1009. Default LIMITS.clientFrameBytes. */
  clientFrameBytes: number;
  /** Seconds without traffic before a socket is dropped; pings go out automatically before that. 0 or 8..960. Default 60. */
  idleTimeoutSeconds: number;
  /**
   * Seconds a connection's session (user, project, task subscriptions with positions) outlives it, so that
   * a reconnect with `old_client_id` alone (the guide's reconnect URL) restores it. Default 120.
   */
  sessionTtlSeconds: number;
  /** How often live connections' sessions are written (changed ones) or their ttl extended, in ms. Default 1000. */
  sessionRefreshMs: number;
  /** Client frames per connection. */
  rate: RateLimit;
}

export interface GatewayOptions {
  engine: Engine;
  /** Names this node in the engine's node reports. Default: host name plus a random suffix. */
  nodeId?: string;
  logger?: Logger;
  /** Where the metrics go; default a registry of this gateway's own. */
  metricsRegistry?: Registry;
  limits?: Partial<GatewayLimits>;
  /** Node report interval; the report lives three intervals. Default 5000. */
  heartbeatIntervalMs?: number;
  /** Handles every HTTP route the gateway does not serve (it must answer or register onAborted). Default: JSON 404. */
  fallback?: HttpHandler;
  /** On close: how long closed clients get to read their close frame before the sockets are torn down. Default 500. */
  drainGraceMs?: number;
  /** On close: how long to wait for engine calls in flight. Default 5000. */
  closeTimeoutMs?: number;
}

/** A createGateway option out of range; `option` names it. */
export class GatewayOptionError extends Error {
  override readonly name = 'GatewayOptionError';
  constructor(
    readonly option: string,
    expected: string,
    got: unknown,
  ) {
    super(`${option} must be ${expected}, got ${JSON.stringify(got)}`);
  }
}

function whole(option: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new GatewayOptionError(option, `a whole number from ${min} to ${max}`, value);
  return value;
}

/** Fills in defaults and checks ranges (uWebSockets.js terminates the process on an idle timeout of 1..7). */
export function resolveLimits(given: Partial<GatewayLimits> = {}): GatewayLimits {
  const limits: GatewayLimits = {
    maxBackpressureBytes: given.maxBackpressureBytes ?? 1 << 20,
    backpressureCheckMs: given.backpressureCheckMs ?? 1000,
    subscriptionsPerConnection: given.subscriptionsPerConnection ?? LIMITS.subscriptionsPerConnection,
    clientFrameBytes: given.clientFrameBytes ?? LIMITS.clientFrameBytes,
    idleTimeoutSeconds: given.idleTimeoutSeconds ?? 60,
    sessionTtlSeconds: given.sessionTtlSeconds ?? 120,
    sessionRefreshMs: given.sessionRefreshMs ?? 1000,
    rate: { ...DEFAULT_RATE_LIMIT, ...given.rate },
  };
  whole('limits.maxBackpressureBytes', limits.maxBackpressureBytes, 1024, 2 ** 31 - 1);
  whole('limits.backpressureCheckMs', limits.backpressureCheckMs, 10, 60_000);
  whole('limits.sessionTtlSeconds', limits.sessionTtlSeconds, 1, 86_400);
  whole('limits.sessionRefreshMs', limits.sessionRefreshMs, 10, 600_000);
  whole('limits.subscriptionsPerConnection', limits.subscriptionsPerConnection, 1, 1_000_000);
  whole('limits.clientFrameBytes', limits.clientFrameBytes, 128, 16 << 20);
  whole('limits.idleTimeoutSeconds', limits.idleTimeoutSeconds, 0, 960);
  if (limits.idleTimeoutSeconds > 0 && limits.idleTimeoutSeconds < 8) {
    throw new GatewayOptionError('limits.idleTimeoutSeconds', '0 (off) or from 8 to 960', limits.idleTimeoutSeconds);
  }
  if (!(limits.rate.perSecond > 0)) throw new GatewayOptionError('limits.rate.perSecond', 'a positive number', limits.rate.perSecond);
  whole('limits.rate.burst', limits.rate.burst, 1, 1_000_000);
  whole('limits.rate.maxStrikes', limits.rate.maxStrikes, 1, 1_000_000);
  return limits;
}
