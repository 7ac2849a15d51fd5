/**
 * The Redis engine's metrics: reconnects, connection errors and failed commands, on a registry the caller
 * passes in (every app passes its own, so the engine depends on no app). Names are
 * `taskpulse_engine_redis_<name>_total`; labels are the connection role and the command name (a bounded
 * set: the commands this engine sends), never a key or a channel.
 */
import { Counter, type Registry } from 'prom-client';
import type { Redis } from 'ioredis';

/** Which of the engine's two connections. */
export type RedisConnectionRole = 'commands' | 'subscriber';

/** The engine's counters; several engines on one registry share them (they count together). */
export interface RedisEngineMetrics {
  reconnects: Counter<'connection'>;
  connectionErrors: Counter<'connection'>;
  commandErrors: Counter<'connection' | 'command'>;
  /** Stats index writes that failed (each is retried; redis-status-index.ts). */
  statusIndexWriteFailures: Counter;
  /** Stats index writes given up: the queue was full, or the engine closed while they still failed. */
  statusIndexDropped: Counter;
}

/** Creates the engine's counters on `registry`, or returns the ones already there. */
export function createRedisEngineMetrics(registry: Registry): RedisEngineMetrics {
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> =>
    (registry.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter({ name, help, labelNames, registers: [registry] });
  const metrics = {
    reconnects: counter('taskpulse_engine_redis_reconnects_total', 'Times a Redis connection of the engine started reconnecting, by connection.', ['connection']),
    connectionErrors: counter('taskpulse_engine_redis_connection_errors_total', 'Errors raised by a Redis connection of the engine (refused, reset, timeouts), by connection.', ['connection']),
    commandErrors: counter(
      'taskpulse_engine_redis_command_errors_total',
      'Redis commands of the engine that failed (error reply, timeout, connection lost), by connection and command name.',
      ['connection', 'command'],
    ),
    statusIndexWriteFailures: counter(
      'taskpulse_engine_redis_status_index_write_failures_total',
      'Stats index writes (a task\'s status after a publish) that failed; each stays queued and is retried.',
      [],
    ),
    statusIndexDropped: counter(
      'taskpulse_engine_redis_status_index_dropped_total',
      'Stats index writes given up (queue full, or the engine closed while they failed); the task is indexed again at its next event.',
      [],
    ),
  };
  // Both connections show from the start (at 0), so rate() and alerts see the first event.
  for (const connection of ['commands', 'subscriber'] as const) {
    metrics.reconnects.inc({ connection }, 0);
    metrics.connectionErrors.inc({ connection }, 0);
  }
  return metrics;
}

type Instrumented = Pick<Redis, 'on' | 'sendCommand'>;

/**
 * Connection set-up commands ioredis sends itself and whose refusal it ignores (CLIENT SETINFO on a Redis
 * older than 7.2, HELLO where RESP3 is not offered): not failures of the engine.
 */
const HANDSHAKE_COMMANDS = new Set(['client', 'hello']);

/**
 * Counts one connection's reconnects, errors and failed commands. A failed command is seen by wrapping
 * the connection's `sendCommand` (ioredis has no command hook): one extra promise reaction per command,
 * ~0.1 µs against a round trip of tens of µs. A NOSCRIPT answer is retried by ioredis with EVAL inside the
 * returned promise, so it is never counted; nor are the handshake commands above.
 */
export function instrumentRedisConnection(connection: Instrumented, role: RedisConnectionRole, metrics: RedisEngineMetrics): void {
  const reconnects = metrics.reconnects.labels(role);
  const errors = metrics.connectionErrors.labels(role);
  connection.on('reconnecting', () => reconnects.inc());
  connection.on('error', () => errors.inc());
  const send = connection.sendCommand.bind(connection) as (...args: unknown[]) => unknown;
  // every argument passes through: a Cluster's sendCommand takes a third (the node a pipeline is bound to)
  connection.sendCommand = ((command: Parameters<Redis['sendCommand']>[0], ...rest: unknown[]) => {
    const reply = send(command, ...rest) as Promise<unknown> | undefined;
    if (!HANDSHAKE_COMMANDS.has(command.name)) {
      reply?.then(undefined, () => metrics.commandErrors.inc({ connection: role, command: command.name }));
    }
    return reply;
  }) as Redis['sendCommand'];
}
