/** Connection sessions in Redis: one JSON value per client id with a PX expiry. */
import type { Redis } from 'ioredis';
import type { ConnectionSession, SessionStore } from './engine';
import { redisCall } from './redis-call';
import { sessionKey } from './redis-keys';
import { checkTtl, parseSession } from './shared';

/** SessionStore on the engine's command connection. */
export class RedisSessionStore implements SessionStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async saveSession(clientId: string, session: ConnectionSession, ttlSeconds: number): Promise<void> {
    checkTtl(ttlSeconds);
    const key = sessionKey(this.prefix, clientId);
    const value = JSON.stringify(session);
    await redisCall(`save the session of client ${clientId}`, () => this.redis.set(key, value, 'PX', Math.ceil(ttlSeconds * 1000)));
  }

  async loadSession(clientId: string): Promise<ConnectionSession | null> {
    const text = await redisCall(`load the session of client ${clientId}`, () => this.redis.get(sessionKey(this.prefix, clientId)));
    return text === null ? null : parseSession(text);
  }
}
