/** Turning Redis failures into EngineUnavailableError with the cause and the operation that failed. */
import type { ChainableCommander, Cluster, Redis } from 'ioredis';
import { EngineError, EngineUnavailableError } from './errors';

/** A command connection: one Redis, or a Redis Cluster (which routes each command by its keys' slot). */
export type RedisCommands = Redis | Cluster;

/** Runs one Redis operation; a failure becomes EngineUnavailableError naming `what`. Engine errors pass through. */
export async function redisCall<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw asEngineError(error, what);
  }
}

/** An engine error as it is; any other failure as EngineUnavailableError naming `what`. */
export function asEngineError(error: unknown, what: string): EngineError {
  if (error instanceof EngineError) return error;
  return new EngineUnavailableError(`redis failed to ${what}: ${error instanceof Error ? error.message : String(error)}`, error);
}

/** Executes a MULTI (one round trip) and returns its replies; any failed command fails the whole call. */
export function execMulti(what: string, multi: ChainableCommander): Promise<unknown[]> {
  return redisCall(what, async () => {
    const replies = await multi.exec();
    if (!replies) throw new Error('transaction was discarded');
    return replies.map(([error, reply]) => {
      if (error) throw error;
      return reply;
    });
  });
}
