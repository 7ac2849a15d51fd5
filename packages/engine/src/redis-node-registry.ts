/**
 * Gateway nodes' connection counts in Redis: one hash per node (`#total`, `u:<user>`, `p:<project>`) with a
 * PX expiry, plus an entry in a sorted set scored by its expiry, so readers find the live nodes without
 * SCAN. A report is one run of lua/report-node-2.lua: whole counts, or only the entries that changed, so a
 * node's heartbeat costs what changed and not how many distinct users it holds. All keys share the
 * `{nodes}` hash tag (one slot on a cluster); reading sums every live node's hash (the stats endpoint).
 */
import type { ConnectionStats, NodeReport, NodeRegistry, NodeReportResult } from './engine';
import type { EngineLogger } from './engine-logger';
import { loadLuaScript } from './lua-scripts';
import { execMulti, redisCall, type RedisCommands } from './redis-call';
import { nodeKey, nodesKey } from './redis-keys';
import { checkTtl, sumNodeReports } from './shared';

const reportNodeScript = loadLuaScript('report-node');
const TOTAL = '#total';
const USER = 'u:';
const PROJECT = 'p:';

/** NodeRegistry on the engine's command connection (its keys share the `{nodes}` slot); `now` scores the expiry index. */
export class RedisNodeRegistry implements NodeRegistry {
  constructor(
    private readonly redis: RedisCommands,
    private readonly prefix: string,
    private readonly now: () => number,
    private readonly logger: EngineLogger,
  ) {}

  async reportNode(report: NodeReport, ttlSeconds: number): Promise<NodeReportResult> {
    checkTtl(ttlSeconds);
    const ttlMs = Math.ceil(ttlSeconds * 1000);
    const args: Array<string | number> = [report.nodeId, this.now() + ttlMs, ttlMs, report.changesOnly ? '1' : '0', report.total];
    for (const [user, count] of Object.entries(report.byUser)) args.push(USER + user, count);
    for (const [project, count] of Object.entries(report.byProject)) args.push(PROJECT + project, count);
    const recorded = await redisCall(`record the report of node ${report.nodeId}`, () =>
      reportNodeScript.run(this.redis, [nodesKey(this.prefix), nodeKey(this.prefix, report.nodeId)], args),
    );
    return recorded === 1 ? 'recorded' : 'needs_whole';
  }

  async removeNode(nodeId: string): Promise<void> {
    await execMulti(
      `remove node ${nodeId}`,
      this.redis.multi().del(nodeKey(this.prefix, nodeId)).zrem(nodesKey(this.prefix), nodeId),
    );
  }

  async connectionStats(): Promise<ConnectionStats> {
    const [, ids] = await execMulti(
      'list live nodes',
      this.redis.multi().zremrangebyscore(nodesKey(this.prefix), '-inf', this.now()).zrange(nodesKey(this.prefix), '0', '-1'),
    );
    const nodeIds = ids as string[];
    if (nodeIds.length === 0) return sumNodeReports([]);
    const multi = this.redis.multi();
    for (const id of nodeIds) multi.hgetall(nodeKey(this.prefix, id));
    const hashes = (await execMulti('read node reports', multi)) as Array<Record<string, string>>;
    const reports: NodeReport[] = [];
    hashes.forEach((fields, i) => {
      if (fields[TOTAL] === undefined) return; // expired between the two reads
      const report: NodeReport = { nodeId: nodeIds[i]!, total: Number(fields[TOTAL]), byUser: {}, byProject: {} };
      for (const [field, value] of Object.entries(fields)) {
        if (field.startsWith(USER)) report.byUser[field.slice(USER.length)] = Number(value);
        else if (field.startsWith(PROJECT)) report.byProject[field.slice(PROJECT.length)] = Number(value);
        else if (field !== TOTAL) this.logger.warn({ nodeId: nodeIds[i], field }, 'skipping an unknown field of a node report');
      }
      reports.push(report);
    });
    return sumNodeReports(reports);
  }
}
