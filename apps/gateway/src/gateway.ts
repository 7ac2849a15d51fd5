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
import { DeadPeers } from './dead-peers';
import { createFanOut } from './fan-out';
import { registerHttpRoutes } from './http-routes';
import { createGatewayMetrics, type GatewayMetrics } from './metrics';
import { describeNativeBuild } from './native-build';
import { NodeCounts, startNodeHeartbeat, type NodeHeartbeat } from './node-heartbeat';
import { resolveLimits, type GatewayOptions } from './options';
import { PendingWork } from './pending-work';
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
  logger.info({ uws: describeNativeBuild(), nodeId, engine: engine.kind }, 'uWebSockets.js native build loaded');

  const app = uWS.App();
  const slowSockets = new SlowSockets(limits.softBackpressureBytes, metrics);
  const fanOut = createFanOut(app, metrics, slowSockets);
  const pending = new PendingWork();
  const connections = new Set<Connection>();
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
    broadcasts: new BroadcastChannels(engine, metrics, logger, pending),
    metrics,
    logger,
    rateLimit: limits.rate,
    clientFrames: { softBytes: limits.clientFrameBytes, hardCapBytes: limits.clientFrameHardCapBytes },
    slowSockets,
    deadPeers,
    subscriptions: { engine, fanOut: fanOut.task, metrics, logger, pending, maxSubscriptions: limits.subscriptionsPerConnection },
    onOpen(connection) {
      connections.add(connection);
      counts.add(connection.userId, connection.projectId);
      metrics.connections.inc();
      heartbeat?.changed();
      rememberSession(connection);
    },
    onClose(connection) {
      connections.delete(connection);
      counts.remove(connection.userId, connection.projectId);
      metrics.connections.dec();
      heartbeat?.changed();
      rememberSession(connection); // the resume window counts from the disconnect
    },
  };

  /** Keeps who the connection is, for a reconnect with `old_client_id`; failures are logged and counted. */
  function rememberSession(connection: Connection): void {
    const { clientId, userId, projectId } = connection;
    if (userId === undefined && projectId === undefined) return;
    const session = userId === undefined ? { projectId } : projectId === undefined ? { userId } : { userId, projectId };
    const work = engine.saveSession(clientId, session, limits.sessionTtlSeconds).catch((error: unknown) => {
      metrics.engineFailures.inc({ operation: 'save_session' });
      logger.warn({ err: error, clientId }, 'saving the connection session failed; a reconnect with old_client_id will start anonymous');
    });
    void pending.track(work);
  }

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
      accepting: () => !draining,
      loadSession: (clientId) => engine.loadSession(clientId),
      createSocketData: (identity) => ({ connection: new Connection(identity, connectionContext) }),
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
        app.listen(host, wanted, (token) => {
          if (!token) return reject(new GatewayListenError(host, wanted));
          listenSocket = token;
          port = uWS.us_socket_local_port(token as unknown as us_socket);
          const intervalMs = options.heartbeatIntervalMs ?? 5000;
          heartbeat = startNodeHeartbeat({ engine, nodeId, counts, intervalMs, metrics, logger });
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
