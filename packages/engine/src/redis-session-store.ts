/**
 * Connection sessions in Redis: one hash per client id, `<prefix>:s:<client_id>`, with field `who` (the
 * identity as JSON) and one field `t:<taskId>` = `<offset>:<epoch>` per subscribed task, and a PX expiry.
 * A save replaces the whole hash atomically (lua/save-session-1.lua: DEL, HSET, PEXPIRE), so a reader never
 * sees half of one; a batch is one pipeline of such scripts on one Redis; on a cluster, where a pipeline
 * must stay on one node, the scripts go out at once (in flight together on each node's connection).
 */
import { Cluster, type ChainableCommander } from 'ioredis';
import type { ConnectionSession, SessionStore, TaskPosition } from './engine';
import { loadLuaScript } from './lua-scripts';
import { redisCall, type RedisCommands } from './redis-call';
import { sessionKey } from './redis-keys';
import { checkTtl, formatPosition, parseIdentity, parsePosition } from './shared';

const TASK_FIELD = 't:';
/** DEL, HSET, PEXPIRE of one session as one atomic step (a pipeline cannot hold a MULTI in ioredis's types). */
const saveSessionScript = loadLuaScript('save-session');

/** SessionStore on the engine's command connection. */
export class RedisSessionStore implements SessionStore {
  constructor(
    private readonly redis: RedisCommands,
    private readonly prefix: string,
  ) {}

  saveSession(clientId: string, session: ConnectionSession, ttlSeconds: number): Promise<void> {
    return this.saveSessions([{ clientId, session }], ttlSeconds);
  }

  async saveSessions(sessions: ReadonlyArray<{ clientId: string; session: ConnectionSession }>, ttlSeconds: number): Promise<void> {
    checkTtl(ttlSeconds);
    if (sessions.length === 0) return;
    const ttlMs = Math.ceil(ttlSeconds * 1000);
    await this.batch(`save ${sessions.length} connection session(s)`, sessions, (commands, { clientId, session }) =>
      this.queueSave(commands, sessionKey(this.prefix, clientId), session, ttlMs),
    );
  }

  async touchSessions(clientIds: readonly string[], ttlSeconds: number): Promise<void> {
    checkTtl(ttlSeconds);
    if (clientIds.length === 0) return;
    const ttlMs = Math.ceil(ttlSeconds * 1000);
    await this.batch(`refresh ${clientIds.length} connection session(s)`, clientIds, (commands, clientId) => {
      commands.pexpire(sessionKey(this.prefix, clientId), ttlMs);
    });
  }

  async loadSession(clientId: string): Promise<ConnectionSession | null> {
    const fields = await redisCall(`load the session of client ${clientId}`, () => this.redis.hgetall(sessionKey(this.prefix, clientId)));
    if (fields.who === undefined) return null; // HGETALL answers {} for a missing key
    const tasks: Record<string, TaskPosition> = {};
    for (const [field, value] of Object.entries(fields)) {
      if (!field.startsWith(TASK_FIELD)) continue;
      const position = parsePosition(value);
      if (position) tasks[field.slice(TASK_FIELD.length)] = position;
    }
    return { who: parseIdentity(fields.who), tasks };
  }

  /** One round trip: a pipeline on one Redis; on a cluster, one command per item, all in flight at once. */
  private async batch<T>(what: string, items: readonly T[], queue: (commands: ChainableCommander, item: T) => void): Promise<void> {
    const redis = this.redis;
    if (!(redis instanceof Cluster)) return runPipeline(what, items, () => redis.pipeline(), queue);
    // a cluster pipeline must stay on one node: one single-command pipeline per item, all sent at once
    await Promise.all(items.map((item) => runPipeline(what, [item], () => redis.pipeline(), queue)));
  }

  private queueSave(pipeline: ChainableCommander, key: string, session: ConnectionSession, ttlMs: number): void {
    const fields: string[] = ['who', JSON.stringify(session.who)];
    for (const [taskId, position] of Object.entries(session.tasks)) fields.push(TASK_FIELD + taskId, formatPosition(position));
    // EVAL with the source: a pipeline cannot fall back from EVALSHA per entry, and Redis caches the compiled script anyway
    pipeline.eval(saveSessionScript.source, 1, key, ttlMs, ...fields);
  }
}

/** Runs a pipeline of `items`; any failed command fails the call as EngineUnavailableError. */
function runPipeline<T>(
  what: string,
  items: readonly T[],
  create: () => ChainableCommander,
  queue: (commands: ChainableCommander, item: T) => void,
): Promise<void> {
  return redisCall(what, async () => {
    const pipeline = create();
    for (const item of items) queue(pipeline, item);
    const replies = await pipeline.exec();
    if (!replies) throw new Error('pipeline was discarded');
    for (const [error] of replies) if (error) throw error;
  });
}
