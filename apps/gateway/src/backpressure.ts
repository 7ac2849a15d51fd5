/**
 * Slow consumers. uWebSockets.js, past its `maxBackpressure`, silently drops frames for that socket
 * (`closeOnBackpressureLimit` only half-closes it, with no close code, and its close frame is dropped
 * too), so a client could see a hole followed by newer frames and never know to resume. The gateway
 * therefore runs uWebSockets.js with no backpressure limit (nothing is ever dropped) and enforces its own
 * here: a socket whose unsent bytes pass the limit is ended with 4000 (slow_consumer, "reconnect and
 * resume"). `end` unsubscribes it from every topic at once and queues the close frame after the frames
 * already buffered, so a client that reads on sees every frame up to the close and resumes from there;
 * one that never reads is dropped after the short ping timeout. Memory per socket is bounded by the
 * limit plus what fan-out adds in one check interval.
 *
 * Below the hard limit, a socket past the soft limit is switched to conflation (slow-sockets.ts): off
 * its topics, per task only the newest progress frame waits; the waiting bytes count toward the limit.
 */
import type { Logger } from 'pino';
import { CLOSE_CODES } from '@taskpulse/protocol';
import type { Connection } from './connection';
import type { GatewayMetrics } from './metrics';

export interface BackpressureWatch {
  stop(): void;
}

/** Checks every connection's buffered bytes every `everyMs`: closes the ones over `limitBytes`, conflates those over `softLimitBytes`. */
export function watchBackpressure(options: {
  connections: Set<Connection>;
  limitBytes: number;
  softLimitBytes: number;
  everyMs: number;
  metrics: GatewayMetrics;
  logger: Logger;
}): BackpressureWatch {
  const { connections, limitBytes, softLimitBytes, metrics, logger } = options;
  const timer = setInterval(() => {
    for (const connection of connections) {
      const buffered = connection.bufferedAmount();
      if (buffered <= limitBytes) {
        if (buffered > softLimitBytes || connection.conflating) connection.conflate();
        continue;
      }
      metrics.slowConsumerCloses.inc();
      logger.warn({ clientId: connection.clientId, buffered, limitBytes }, 'closing a slow consumer');
      connection.end(CLOSE_CODES.slow_consumer, 'slow consumer: reconnect and resume');
    }
  }, options.everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
