/** The options of `createGateway`, their defaults, and the checks that keep uWebSockets.js from aborting. */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { LIMITS } from '@taskpulse/protocol';
import type { EngineStatus, NodeRegistry, PubSub, SessionStore, TaskStore } from '@taskpulse/engine';
import type { AuthSettings } from '@taskpulse/auth';
import type { HttpHandler } from './http-reply';
import { DEFAULT_RATE_LIMIT, type RateLimit } from './rate-limit';

export interface GatewayLimits {
  /** Unsent bytes a socket may have before it is closed as a slow consumer (4000). Default 1 MiB. */
  maxBackpressureBytes: number;
  /**
   * Unsent bytes past which a socket leaves its topics and its progress frames are conflated (per task
   * only the newest waits; statuses and broadcasts queue); see slow-sockets.ts. Default 64 KiB, below the hard limit.
   */
  softBackpressureBytes: number;
  /**
   * How often buffered bytes are checked, in ms. Default 1000: the scan visits every socket, and at 250 ms
   * it was a sixth of an idle-ish node's CPU (profile under S2); the bound on a slow socket's memory is
   * the limit plus one second of its frames.
   */
  backpressureCheckMs: number;
  /** Task subscriptions per connection. Default LIMITS.subscriptionsPerConnection. */
  subscriptionsPerConnection: number;
  /** Largest client frame handled; bigger ones get a `frame_too_large` error frame. Default LIMITS.clientFrameBytes. */
  clientFrameBytes: number;
  /**
   * Client frames over this close the connection with 1009 after the frames queued for it. Default 64 KiB.
   * uWebSockets.js itself reads frames up to 16 times this (capped at 16 MiB) and drops bigger ones without a close frame.
   */
  clientFrameHardCapBytes: number;
  /**
   * Seconds between liveness checks: a socket quiet this long is pinged, and one that answers neither the
   * ping nor anything else is closed with 4001 within two intervals (dead-peers.ts). Default 25, as Centrifugo.
   */
  pingIntervalSeconds: number;
  /**
   * Seconds a connection's session (user, project, task subscriptions with positions) outlives it, so that
   * a reconnect with `old_client_id` alone (the guide's reconnect URL) restores it. Default 120.
   */
  sessionTtlSeconds: number;
  /** How often live connections' sessions are written (changed ones) or their ttl extended, in ms. Default 1000 (each pass costs CPU per busy session: about 20 µs, measured in the bench). */
  sessionRefreshMs: number;
  /** Client frames per connection. */
  rate: RateLimit;
  /** Open connections one user id may hold on this node; more are refused at upgrade with 429. 0 = no limit (default). */
  connectionsPerUser: number;
}

/**
 * The engine roles the gateway uses, and nothing more: task state reads, channel subscriptions (it never
 * broadcasts), its node report, connection sessions, and the status. Any Engine fits, and so does one
 * composed from roles of different backends (composeEngine).
 */
export type GatewayEngine = Pick<TaskStore, 'latest' | 'replay' | 'snapshot'> &
  Omit<PubSub, 'broadcast'> &
  Pick<NodeRegistry, 'reportNode' | 'removeNode'> &
  SessionStore &
  Pick<EngineStatus, 'kind' | 'prefix' | 'isReady'>;

export interface GatewayOptions {
  /** The engine the gateway reads, subscribes and reports through (the caller closes it). */
  engine: GatewayEngine;
  /** Names this node in the engine's node reports. Default: host name plus a random suffix. */
  nodeId?: string;
  logger?: Logger;
  /** Where the metrics go; default a registry of this gateway's own. */
  metricsRegistry?: Registry;
  limits?: Partial<GatewayLimits>;
  /** Auth mode, token key and allowed origins (readAuthSettings). Default: insecure, every origin (the guide's). */
  auth?: AuthSettings;
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
    softBackpressureBytes: given.softBackpressureBytes ?? Math.min(64 * 1024, given.maxBackpressureBytes ?? 1 << 20),
    clientFrameBytes: given.clientFrameBytes ?? LIMITS.clientFrameBytes,
    clientFrameHardCapBytes: given.clientFrameHardCapBytes ?? 64 * 1024,
    pingIntervalSeconds: given.pingIntervalSeconds ?? 25,
    sessionTtlSeconds: given.sessionTtlSeconds ?? 120,
    sessionRefreshMs: given.sessionRefreshMs ?? 1000,
    rate: { ...DEFAULT_RATE_LIMIT, ...given.rate },
    connectionsPerUser: given.connectionsPerUser ?? 0,
  };
  whole('limits.connectionsPerUser', limits.connectionsPerUser, 0, 1_000_000);
  whole('limits.maxBackpressureBytes', limits.maxBackpressureBytes, 1024, 2 ** 31 - 1);
  whole('limits.backpressureCheckMs', limits.backpressureCheckMs, 10, 60_000);
  whole('limits.sessionTtlSeconds', limits.sessionTtlSeconds, 1, 86_400);
  whole('limits.sessionRefreshMs', limits.sessionRefreshMs, 10, 600_000);
  whole('limits.subscriptionsPerConnection', limits.subscriptionsPerConnection, 1, 1_000_000);
  whole('limits.softBackpressureBytes', limits.softBackpressureBytes, 1024, limits.maxBackpressureBytes);
  whole('limits.clientFrameBytes', limits.clientFrameBytes, 128, 16 << 20);
  whole('limits.clientFrameHardCapBytes', limits.clientFrameHardCapBytes, limits.clientFrameBytes, 16 << 20);
  // A fraction of a second is allowed so tests can watch dead peers being found quickly.
  if (!(limits.pingIntervalSeconds >= 0.1 && limits.pingIntervalSeconds <= 3600)) {
    throw new GatewayOptionError('limits.pingIntervalSeconds', 'a number of seconds from 0.1 to 3600', limits.pingIntervalSeconds);
  }
  if (!(limits.rate.perSecond > 0)) throw new GatewayOptionError('limits.rate.perSecond', 'a positive number', limits.rate.perSecond);
  whole('limits.rate.burst', limits.rate.burst, 1, 1_000_000);
  whole('limits.rate.maxStrikes', limits.rate.maxStrikes, 1, 1_000_000);
  return limits;
}
