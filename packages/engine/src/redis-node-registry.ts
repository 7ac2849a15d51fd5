/**
 * Gateway nodes' connection counts in Redis: each report is a JSON value with a PX expiry plus an entry in
 * a sorted set scored by its expiry, so readers find the live nodes without SCAN. Every report and every
 * read drops the index entries of expired reports, so the index stays as small as the live fleet.
 */
import type { ConnectionStats, NodeReport, NodeRegistry } from './engine';
import type { EngineLogger } from './engine-logger';
import { execMulti, redisCall, type RedisCommands } from './redis-call';
import { nodeKey, nodesKey } from './redis-keys';
import { checkTtl, sumNodeReports } from './shared';

/** NodeRegistry on the engine's command connection (its keys share the `{nodes}` slot); `now` scores the expiry index. */
export class RedisNodeRegistry implements NodeRegistry {
  constructor(
    private readonly redis: RedisCommands,
    private readonly prefix: string,
    private readonly now: () => number,
    private readonly logger: EngineLogger,
  ) {}

  async reportNode(report: NodeReport, ttlSeconds: number): Promise<void> {
    checkTtl(ttlSeconds);
    const ttlMs = Math.ceil(ttlSeconds * 1000);
    await execMulti(
      `record the report of node ${report.nodeId}`,
      this.redis
        .multi()
        .set(nodeKey(this.prefix, report.nodeId), JSON.stringify(report), 'PX', ttlMs)
        .zremrangebyscore(nodesKey(this.prefix), '-inf', this.now())
        .zadd(nodesKey(this.prefix), this.now() + ttlMs, report.nodeId),
    );
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
    const values = await redisCall('read node reports', () =>
      this.redis.mget(nodeIds.map((id) => nodeKey(this.prefix, id))),
    );
    const reports: NodeReport[] = [];
    values.forEach((value, i) => {
      if (value === null) return; // expired between the two reads
      try {
        reports.push(JSON.parse(value) as NodeReport);
      } catch (error) {
        this.logger.warn({ err: error, nodeId: nodeIds[i] }, 'skipping a node report that is not JSON');
      }
    });
    return sumNodeReports(reports);
  }
}
