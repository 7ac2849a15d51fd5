/**
 * The gateway: a uWebSockets.js app that upgrades `/api/v1/ws`, fans engine frames out by topic, reports
 * its connection counts, and serves health, readiness and metrics. Built here, started by `listen`,
 * drained by `close`; nothing listens until asked, so tests and the all-in-one process compose it freely.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import uWS, { type TemplatedApp, type us_listen_socket, type us_socket } from 'uWebSockets.js';
import { pino } from 'pino';
import { CLOSE_CODES } from '@taskpulse/protocol';
import { watchBackpressure, type BackpressureWatch } from './backpressure';
import { BroadcastChannelCounts } from './broadcast-channel-counts';
import { Connection, type ConnectionContext, type SocketData } from './connection';
import { createDeliveryMetrics } from './delivery-metrics';
import { DeadPeers } from './dead-peers';
import { createFanOut } from './fan-out';
import { createGatewayAuth } from './gateway-auth';
import { createTaskAuthorizer } from './task-authorization';
import { registerHttpRoutes } from './http-routes';
import { createGatewayMetrics, type GatewayMetrics } from './metrics';
import { describeNativeBuild } from './native-build';
import { NodeCounts, startNodeHeartbeat, type NodeHeartbeat } from './node-heartbeat';
import { resolveLimits, type GatewayOptions } from './options';
import { PendingWork } from './pending-work';
import { userConnectionRefusal } from './user-connection-limit';
import { SessionKeeper } from './session-keeper';
import { TaskRelay } from './task-relay';
import { SlowSockets } from './slow-sockets';
import { createUpgradeHandler } from './upgrade';

/** The WebSocket path from the guide. */
export const WS_PATH = '/api/v1/ws';

export interface Gateway {
  readonly app: TemplatedApp;
  readonly nodeId: string;
  readonly metrics: GatewayMetrics;
  /** The port listened on (the real one when 0 was asked), once listening. */
  readonly port: number | undefined;
  /** Starts listening; resolves to the port, rejects with GatewayListenError. */
  listen(port: number, host?: string): Promise<number>;
  /** Drains: stops listening, closes every socket with 1012, leaves the engine, removes the node report. Idempotent. */
  close(): Promise<void>;
  /** Open connections right now. */
  connectionCount(): number;
}

/** The port could not be bound. */
export class GatewayListenError extends Error {
  override readonly name = 'GatewayListenError';
  constructor(
    readonly host: string,
    readonly port: number,
  ) {
    super(`the gateway could not listen on ${host}:${port} (in use, or not allowed)`);
  }
}

/** Builds a gateway on an engine; see GatewayOptions for the knobs. */
export function createGateway(options: GatewayOptions): Gateway {
  const { engine } = options;
  const limits = resolveLimits(options.limits);
  const logger = options.logger ?? pino({ name: 'gateway' });
  const nodeId = options.nodeId ?? defaultNodeId();
  const metrics = createGatewayMetrics(options.metricsRegistry);
  const auth = createGatewayAuth(options.auth);
  logger.info({ uws: describeNativeBuild(), nodeId, engine: engine.kind }, 'uWebSockets.js native build loaded');

  const app = uWS.App();
  const slowSockets = new SlowSockets(limits.softBackpressureBytes, metrics);
  const fanOut = createFanOut(app, metrics, slowSockets);
  const pending = new PendingWork();
  const connections = new Set<Connection>();
  const delivery = createDeliveryMetrics(metrics.registry);
  // Task frames go engine → relay (positions, outage repair) → fan-out (topic publish).
  const relay = new TaskRelay({ engine, publish: fanOut.task, metrics: delivery, logger, pending });
  const sessions = new SessionKeeper({
    sessions: engine,
    connections,
    ttlSeconds: limits.sessionTtlSeconds,
    refreshMs: limits.sessionRefreshMs,
    metrics,
    delivery,
    logger,
    pending,
  });
  const deadPeers = new DeadPeers(connections, metrics, logger);
  const counts = new NodeCounts();
  let listenSocket: us_listen_socket | undefined;
  let port: number | undefined;
  let draining = false;
  let heartbeat: NodeHeartbeat | undefined;
  let backpressure: BackpressureWatch | undefined;
  let closing: Promise<void> | undefined;

  const connectionContext: ConnectionContext = {
    engine,
    fanOut,
    broadcasts: new BroadcastChannelCounts(engine, metrics, logger, pending),
    metrics,
    logger,
    rateLimit: limits.rate,
    auth,
    subscriptions: {
      engine,
      fanOut: relay.listener,
      relay,
      sessionChanged: (socket) => {
        if (socket instanceof Connection) sessions.changed(socket);
      },
      metrics,
      logger,
      pending,
      maxSubscriptions: limits.subscriptionsPerConnection,
      ...(auth.jwt ? { authorizeTask: createTaskAuthorizer(engine) } : {}),
    },
    restoredSubscriptions: delivery.restoredSubscriptions,
    clientFrames: { softBytes: limits.clientFrameBytes, hardCapBytes: limits.clientFrameHardCapBytes },
    slowSockets,
    deadPeers,
    onOpen(connection) {
      connections.add(connection);
      counts.add(connection.userId, connection.projectId);
      metrics.connections.inc();
      heartbeat?.changed();
      sessions.changed(connection);
    },
    onClose(connection) {
      connections.delete(connection);
      counts.remove(connection.userId, connection.projectId);
      metrics.connections.dec();
      heartbeat?.changed();
      sessions.closed(connection); // the exact final session; the resume window counts from the disconnect
    },
  };

  app.ws<SocketData>(WS_PATH, {
    compression: uWS.DISABLED,
    // uWebSockets.js drops a bigger frame with no close frame, so it reads well past the hard cap and
    // connection.ts answers: frame_too_large over the soft limit, 1009 over the cap.
    maxPayloadLength: Math.min(16 << 20, limits.clientFrameHardCapBytes * 16),
    // 0 = never drop: uWebSockets.js drops frames silently past its limit; backpressure.ts closes with 4000 instead.
    maxBackpressure: 0,
    // dead-peers.ts pings and closes with 4001; uWebSockets.js's silent idle close is only a backstop behind it.
    idleTimeout: idleBackstopSeconds(limits.pingIntervalSeconds),
    sendPingsAutomatically: false,
    drain: (ws) => ws.getUserData().connection.drained(),
    pong: (ws) => ws.getUserData().connection.heard(),
    upgrade: createUpgradeHandler({
      metrics,
      auth,
      onKeySourceError: (error) => logger.warn({ err: error }, 'the token keys could not be read; upgrades get 503'),
      accepting: () => !draining,
      loadSession: (clientId) => engine.loadSession(clientId),
      createSocketData: (identity, resumed, later) => ({ connection: new Connection(identity, connectionContext, resumed?.tasks, later) }),
      overUserLimit: (identity) => userConnectionRefusal(counts, identity, limits.connectionsPerUser),
    }),
    open: (ws) => ws.getUserData().connection.opened(ws),
    message: (ws, message, isBinary) => ws.getUserData().connection.received(message, isBinary),
    close: (ws) => ws.getUserData().connection.closedBySocket(),
  });

  registerHttpRoutes(app, {
    registry: metrics.registry,
    metrics,
    logger,
    fallback: options.fallback,
    readiness: () => ({ engine: engine.isReady(), listening: listenSocket !== undefined, draining }),
  });

  async function shutDown(): Promise<void> {
    draining = true;
    if (listenSocket) uWS.us_listen_socket_close(listenSocket);
    listenSocket = undefined;
    backpressure?.stop();
    sessions.stop();
    relay.stop();
    deadPeers.stop();
    const ended = connections.size;
    // Each end() runs the close handler synchronously, which starts the engine unregistrations.
    for (const connection of [...connections]) connection.end(CLOSE_CODES.drain, 'server draining: reconnect');
    if (!(await pending.settle(options.closeTimeoutMs ?? 5000))) {
      logger.warn({ pending: pending.size }, 'engine calls still in flight when the gateway closed');
    }
    await heartbeat?.stop();
    fanOut.stop();
    if (ended > 0) await sleep(options.drainGraceMs ?? 500);
    app.close();
    logger.info({ nodeId, closedConnections: ended }, 'gateway closed');
  }

  return {
    app,
    nodeId,
    metrics,
    get port() {
      return port;
    },
    listen(wanted: number, host = '0.0.0.0'): Promise<number> {
      if (closing) return Promise.reject(new Error('the gateway was closed; create a new one to listen again'));
      if (listenSocket) return Promise.reject(new Error(`the gateway already listens on port ${port}`));
      return new Promise((resolve, reject) => {
        listenExclusive(app, host, wanted, (token) => {
          if (!token) return reject(new GatewayListenError(host, wanted));
          listenSocket = token;
          port = uWS.us_socket_local_port(token as unknown as us_socket);
          const intervalMs = options.heartbeatIntervalMs ?? 5000;
          heartbeat = startNodeHeartbeat({ nodes: engine, nodeId, counts, intervalMs, metrics, logger });
          sessions.start();
          backpressure = watchBackpressure({
            connections,
            limitBytes: limits.maxBackpressureBytes,
            softLimitBytes: limits.softBackpressureBytes,
            everyMs: limits.backpressureCheckMs,
            metrics,
            logger,
          });
          deadPeers.start(limits.pingIntervalSeconds * 1000);
          resolve(port);
        });
      });
    },
    close: () => (closing ??= shutDown()),
    connectionCount: () => connections.size,
  };
}

type ListenCallback = (token: us_listen_socket | false) => void;
/** uWebSockets.js ListenOptions.LIBUS_LISTEN_EXCLUSIVE_PORT (a type-only enum in its typings). */
const LIBUS_LISTEN_EXCLUSIVE_PORT = 1;

/**
 * uWebSockets.js listens with SO_REUSEPORT by default, so a second process on the same port succeeds and
 * the kernel splits new connections between the two, silently (seen in tests: a connection landing on
 * another test's gateway). An exclusive port makes such a collision a GatewayListenError instead. The
 * (host, port, options, cb) form exists at runtime but not in the typings.
 */
function listenExclusive(app: TemplatedApp, host: string, port: number, cb: ListenCallback): void {
  const listen = app.listen as unknown as (host: string, port: number, options: number, cb: ListenCallback) => TemplatedApp;
  listen.call(app, host, port, LIBUS_LISTEN_EXCLUSIVE_PORT, cb);
}

/** uWebSockets.js's idle timeout behind the ping sweep: three intervals, 8..960 s (it aborts on 1..7), off past that. */
function idleBackstopSeconds(pingIntervalSeconds: number): number {
  const seconds = Math.ceil(pingIntervalSeconds * 3);
  return seconds > 960 ? 0 : Math.max(8, seconds);
}

/** Host name plus a random suffix, so two processes on one host never share a node report. */
function defaultNodeId(): string {
  const host = hostname().replace(/[^A-Za-z0-9_.:@-]/g, '-').slice(0, 100) || 'gateway';
  return `${host}-${randomBytes(4).toString('hex')}`;
}
