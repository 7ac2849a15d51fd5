/**
 * This node's connection counts, kept incrementally as sockets open and close, and reported to the
 * engine every interval with a ttl of three intervals, so a node that dies silently drops out of
 * `connectionStats()` on its own; a clean shutdown removes the report at once. A change of the counts
 * is reported too, coalesced: at most one report per `coalesceMs` (default 250), so the stats follow a
 * connect or a close within a second however many sockets come and go.
 *
 * After the first whole report, a report carries only the users and projects whose count changed since
 * the previous one (`changesOnly`), so a heartbeat costs what changed, not how many distinct users the node
 * holds. A failed report, or one the engine cannot apply (its counts expired or were lost with Redis's
 * data: `needs_whole`), makes the next one whole again.
 */
import type { Logger } from 'pino';
import type { NodeRegistry, NodeReport, NodeReportResult } from '@taskpulse/engine';
import type { GatewayMetrics } from './metrics';

/** Open connections in total, by user and by project. */
export class NodeCounts {
  total = 0;
  private readonly byUser = new Map<string, number>();
  private readonly byProject = new Map<string, number>();
  /** Users and projects whose count changed since the last report was taken. */
  private changedUsers = new Set<string>();
  private changedProjects = new Set<string>();

  add(userId: string | undefined, projectId: string | undefined): void {
    this.total += 1;
    if (userId !== undefined) bump(this.byUser, userId, 1, this.changedUsers);
    if (projectId !== undefined) bump(this.byProject, projectId, 1, this.changedProjects);
  }

  remove(userId: string | undefined, projectId: string | undefined): void {
    this.total -= 1;
    if (userId !== undefined) bump(this.byUser, userId, -1, this.changedUsers);
    if (projectId !== undefined) bump(this.byProject, projectId, -1, this.changedProjects);
  }

  /** Open connections of one user on this node. */
  userCount(userId: string): number {
    return this.byUser.get(userId) ?? 0;
  }

  /** The whole counts as the engine's node report (and the changes since start again from here). */
  report(nodeId: string): NodeReport {
    this.changedUsers = new Set();
    this.changedProjects = new Set();
    return { nodeId, total: this.total, byUser: Object.fromEntries(this.byUser), byProject: Object.fromEntries(this.byProject) };
  }

  /** Only what changed since the last report was taken (new counts, 0 for none left): costs the changes, not the users. */
  changes(nodeId: string): NodeReport {
    const [users, projects] = [this.changedUsers, this.changedProjects];
    this.changedUsers = new Set();
    this.changedProjects = new Set();
    const byUser: Record<string, number> = {};
    const byProject: Record<string, number> = {};
    for (const user of users) byUser[user] = this.byUser.get(user) ?? 0;
    for (const project of projects) byProject[project] = this.byProject.get(project) ?? 0;
    return { nodeId, total: this.total, byUser, byProject, changesOnly: true };
  }
}

function bump(counts: Map<string, number>, key: string, by: number, changed: Set<string>): void {
  const next = (counts.get(key) ?? 0) + by;
  if (next > 0) counts.set(key, next);
  else counts.delete(key);
  changed.add(key);
}

export interface NodeHeartbeat {
  /** The counts changed: report them within `coalesceMs`, together with any other change until then. */
  changed(): void;
  /** Stops reporting, waits for a report in flight, then removes this node's report. */
  stop(): Promise<void>;
}

/** Reports at once and then every `intervalMs`; a failed report is logged and counted, and the next one retries. */
export function startNodeHeartbeat(options: {
  nodes: Pick<NodeRegistry, 'reportNode' | 'removeNode'>;
  nodeId: string;
  counts: NodeCounts;
  intervalMs: number;
  /** Delay of a report on change; changes within it share one report. Default 250. */
  coalesceMs?: number;
  metrics: GatewayMetrics;
  logger: Logger;
}): NodeHeartbeat {
  const { nodes, nodeId, counts, metrics, logger } = options;
  const coalesceMs = options.coalesceMs ?? 250;
  const ttlSeconds = Math.max(1, Math.ceil((3 * options.intervalMs) / 1000));
  let inFlight: Promise<void> | undefined;
  /** Counts changed since the last report started. */
  let dirty = false;
  /** The next report must carry the whole counts: the first one, and after a failed or refused one. */
  let whole = true;
  let soon: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = () => {
    if (soon !== undefined || stopped) return;
    soon = setTimeout(() => {
      soon = undefined;
      beat();
    }, coalesceMs);
    soon.unref();
  };
  const beat = () => {
    if (stopped) return;
    if (inFlight) {
      dirty = true; // the report on its way may predate a change: one more follows it
      return;
    }
    dirty = false;
    const report = whole ? counts.report(nodeId) : counts.changes(nodeId);
    whole = false;
    inFlight = nodes
      .reportNode(report, ttlSeconds)
      .then((result: NodeReportResult) => {
        if (result === 'needs_whole') {
          whole = true;
          dirty = true;
        }
      })
      .catch((error: unknown) => {
        whole = true; // what landed is unknown: the next report replaces it
        metrics.engineFailures.inc({ operation: 'report_node' });
        logger.warn({ err: error, nodeId }, 'reporting node connection counts failed');
      })
      .finally(() => {
        inFlight = undefined;
        if (dirty) schedule();
      });
  };
  beat();
  const timer = setInterval(beat, options.intervalMs);
  timer.unref();
  return {
    changed() {
      dirty = true;
      if (!inFlight) schedule();
    },
    async stop() {
      stopped = true;
      clearTimeout(soon);
      clearInterval(timer);
      await inFlight;
      await nodes.removeNode(nodeId).catch((error: unknown) => {
        metrics.engineFailures.inc({ operation: 'remove_node' });
        logger.warn({ err: error, nodeId }, 'removing the node report failed; it expires on its own');
      });
    },
  };
}
