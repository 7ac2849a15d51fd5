/**
 * Issue 11 item 4: what one node heartbeat costs at 10,000 distinct users on the node, whole report
 * (before) against a changes-only report (10 users changed), on a private redis-server. Prints the
 * gateway-side time to build and send the report, the bytes of its arguments and Redis's own time per
 * call (INFO commandstats). Run: npx tsx bench/src/stats/node-report-cost.ts
 */
import { createRedisEngine } from '@taskpulse/engine';
import { startRedisServer } from '@taskpulse/testkit';
import { NodeCounts } from '../../../apps/gateway/src/node-heartbeat';
import { Redis } from 'ioredis';
import { pino } from 'pino';

const USERS = 10_000;
const BEATS = 200;
const server = await startRedisServer();
const engine = createRedisEngine({ url: server.url, prefix: 'cost', logger: pino({ level: 'silent' }) });
const raw = new Redis(server.url);
try {
  await engine.ready();
  const counts = new NodeCounts();
  for (let i = 0; i < USERS; i++) counts.add(`user-${i}`, `project-${i % 100}`);
  const evalUsec = async () => {
    const info = await raw.info('commandstats');
    const line = info.split('\n').find((l) => l.startsWith('cmdstat_evalsha:'));
    return Number(line?.match(/usec=(\d+)/)?.[1] ?? 0);
  };
  const bytes = (r: ReturnType<NodeCounts['report']>) => JSON.stringify([r.byUser, r.byProject]).length;
  const rows: string[] = [];
  for (const mode of ['whole', 'changes'] as const) {
    await engine.reportNode(counts.report('n1'), 60);
    await raw.config('RESETSTAT');
    let jsNs = 0n;
    let argBytes = 0;
    for (let b = 0; b < BEATS; b++) {
      for (let k = 0; k < 10; k++) {
        counts.remove(`user-${(b * 10 + k) % USERS}`, 'project-0');
        counts.add(`user-${(b * 10 + k) % USERS}`, 'project-0');
      }
      const started = process.hrtime.bigint();
      const report = mode === 'whole' ? counts.report('n1') : counts.changes('n1');
      await engine.reportNode(report, 60);
      jsNs += process.hrtime.bigint() - started;
      argBytes += bytes(report);
    }
    const usec = await evalUsec();
    rows.push(`| ${mode.padEnd(7)} | ${USERS} | ${(Number(jsNs) / BEATS / 1e6).toFixed(2).padStart(8)} | ${Math.round(argBytes / BEATS).toString().padStart(8)} | ${(usec / BEATS).toFixed(0).padStart(9)} |`);
  }
  const stats = await engine.connectionStats();
  if (stats.total_clients !== USERS || Object.keys(stats.by_user).length !== USERS) throw new Error(`stats wrong: ${stats.total_clients}`);
  console.log('| report  | users on node | ms per beat (build+send+reply) | report bytes | Redis µs per beat |');
  console.log('|---|---|---|---|---|');
  for (const row of rows) console.log(row);
} finally {
  raw.disconnect();
  await engine.close();
  await server.stop();
}
