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
import { BroadcastChannels } from './broadcast-channels';
import { Connection, type ConnectionContext, type SocketData } from './connection';
import { createDeliveryMetrics } from './delivery-metrics';
import { createFanOut } from './fan-out';
import { registerHttpRoutes } from './http-routes';
import { createGatewayMetrics, type GatewayMetrics } from './metrics';
import { describeNativeBuild } from './native-build';
import { NodeCounts, startNodeHeartbeat, type NodeHeartbeat } from './node-heartbeat';
import { resolveLimits, type GatewayOptions } from './options';
import { PendingWork } from './pending-work';
import { SessionKeeper } from './session-keeper';
import { TaskRelay } from './task-relay';
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
  logger.info({ uws: describeNativeBuild(), nodeId, engine: engine.kind }, 'uWebSockets.js native build loaded');

  const app = uWS.App();
  const fanOut = createFanOut(app, metrics);
  const pending = new PendingWork();
  const connections = new Set<Connection>();
  const delivery = createDeliveryMetrics(metrics.registry);
  // Task frames go engine → relay (positions, outage repair) → fan-out (topic publish).
  const relay = new TaskRelay({ engine, publish: fanOut.task, metrics: delivery, logger, pending });
  const sessions = new SessionKeeper({
    engine,
    connections,
    ttlSeconds: limits.sessionTtlSeconds,
    refreshMs: limits.sessionRefreshMs,
    metrics,
    delivery,
    logger,
    pending,
  });
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
    broadcasts: new BroadcastChannels(engine, metrics, logger, pending),
    metrics,
    logger,
    rateLimit: limits.rate,
    subscriptions: {
      engine,
      fanOut: relay.listener,
      relay,
      sessionChanged: () => sessions.soon(),
      metrics,
      logger,
      pending,
      maxSubscriptions: limits.subscriptionsPerConnection,
    },
    restoredSubscriptions: delivery.restoredSubscriptions,
    onOpen(connection) {
      connections.add(connection);
      counts.add(connection.userId, connection.projectId);
      metrics.connections.inc();
      sessions.soon();
    },
    onClose(connection) {
      connections.delete(connection);
      counts.remove(connection.userId, connection.projectId);
      metrics.connections.dec();
      sessions.closed(connection); // the exact final session; the resume window counts from the disconnect
    },
  };

  app.ws<SocketData>(WS_PATH, {
    compression: uWS.DISABLED,
    maxPayloadLength: limits.clientFrameBytes,
    // 0 = never drop: uWebSockets.js drops frames silently past its limit; backpressure.ts closes with 4000 instead.
    maxBackpressure: 0,
    idleTimeout: limits.idleTimeoutSeconds,
    sendPingsAutomatically: true,
    upgrade: createUpgradeHandler({
      metrics,
      accepting: () => !draining,
      loadSession: (clientId) => engine.loadSession(clientId),
      createSocketData: (identity, resumed) => ({ connection: new Connection(identity, connectionContext, resumed?.tasks) }),
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
        app.listen(host, wanted, (token) => {
          if (!token) return reject(new GatewayListenError(host, wanted));
          listenSocket = token;
          port = uWS.us_socket_local_port(token as unknown as us_socket);
          const intervalMs = options.heartbeatIntervalMs ?? 5000;
          heartbeat = startNodeHeartbeat({ engine, nodeId, counts, intervalMs, metrics, logger });
          sessions.start();
          backpressure = watchBackpressure({
            connections,
            limitBytes: limits.maxBackpressureBytes,
            everyMs: limits.backpressureCheckMs,
            metrics,
            logger,
          });
          resolve(port);
        });
      });
    },
    close: () => (closing ??= shutDown()),
    connectionCount: () => connections.size,
  };
}

/** Host name plus a random suffix, so two processes on one host never share a node report. */
function defaultNodeId(): string {
  const host = hostname().replace(/[^A-Za-z0-9_.:@-]/g, '-').slice(0, 100) || 'gateway';
  return `${host}-${randomBytes(4).toString('hex')}`;
}
