/**
 * This node's connection counts, kept incrementally as sockets open and close, and reported to the
 * engine every interval with a ttl of three intervals, so a node that dies silently drops out of
 * `connectionStats()` on its own; a clean shutdown removes the report at once.
 */
import type { Logger } from 'pino';
import type { Engine, NodeReport } from '@taskpulse/engine';
import type { GatewayMetrics } from './metrics';

/** Open connections in total, by user and by project. */
export class NodeCounts {
  total = 0;
  private readonly byUser = new Map<string, number>();
  private readonly byProject = new Map<string, number>();

  add(userId: string | undefined, projectId: string | undefined): void {
    this.total += 1;
    if (userId !== undefined) bump(this.byUser, userId, 1);
    if (projectId !== undefined) bump(this.byProject, projectId, 1);
  }

  remove(userId: string | undefined, projectId: string | undefined): void {
    this.total -= 1;
    if (userId !== undefined) bump(this.byUser, userId, -1);
    if (projectId !== undefined) bump(this.byProject, projectId, -1);
  }

  /** Open connections of one user on this node. */
  userCount(userId: string): number {
    return this.byUser.get(userId) ?? 0;
  }

  /** The counts as the engine's node report. */
  report(nodeId: string): NodeReport {
    return { nodeId, total: this.total, byUser: Object.fromEntries(this.byUser), byProject: Object.fromEntries(this.byProject) };
  }
}

function bump(counts: Map<string, number>, key: string, by: number): void {
  const next = (counts.get(key) ?? 0) + by;
  if (next > 0) counts.set(key, next);
  else counts.delete(key);
}

export interface NodeHeartbeat {
  /** Stops reporting, waits for a report in flight, then removes this node's report. */
  stop(): Promise<void>;
}

/** Reports at once and then every `intervalMs`; a failed report is logged and counted, and the next one retries. */
export function startNodeHeartbeat(options: {
  engine: Engine;
  nodeId: string;
  counts: NodeCounts;
  intervalMs: number;
  metrics: GatewayMetrics;
  logger: Logger;
}): NodeHeartbeat {
  const { engine, nodeId, counts, metrics, logger } = options;
  const ttlSeconds = Math.max(1, Math.ceil((3 * options.intervalMs) / 1000));
  let inFlight: Promise<void> | undefined;
  const beat = () => {
    if (inFlight) return; // the previous report is still on its way; the next tick carries fresher counts
    inFlight = engine
      .reportNode(counts.report(nodeId), ttlSeconds)
      .catch((error: unknown) => {
        metrics.engineFailures.inc({ operation: 'report_node' });
        logger.warn({ err: error, nodeId }, 'reporting node connection counts failed');
      })
      .finally(() => {
        inFlight = undefined;
      });
  };
  beat();
  const timer = setInterval(beat, options.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
      await engine.removeNode(nodeId).catch((error: unknown) => {
        metrics.engineFailures.inc({ operation: 'remove_node' });
        logger.warn({ err: error, nodeId }, 'removing the node report failed; it expires on its own');
      });
    },
  };
}
