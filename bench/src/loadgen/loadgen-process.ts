/**
 * A load-generator process: holds its share of the connections and measures what they receive. Started
 * by run.ts with CONTROL_URL and CONTROL_NAME; takes commands until the orchestrator goes away.
 */
import { serveControl } from '../control/control-client';
import type { LoadgenCommands } from '../control/commands';
import { ConnectionPool } from './connection-pool';
import { wireFor } from './wire';

const pool = new ConnectionPool();

serveControl<LoadgenCommands>({
  connect: async (a) =>
    pool.connect({
      wire: wireFor(a.wire),
      nodes: a.nodes,
      conns: a.conns,
      concurrency: a.concurrency,
      timeoutMs: a.timeoutMs,
      deadlineMs: a.deadlineMs,
      maxFailures: Math.max(20, Math.ceil(a.conns.length * 0.02)),
      ...(a.localAddress ? { localAddress: a.localAddress } : {}),
    }),
  measure: async (a) => {
    pool.measure(a.mode, a.start, a.end);
    return null;
  },
  collect: async () => pool.collect(),
  closeAll: async () => ({ closed: await pool.closeAll() }),
  status: async () => pool.status(),
});
