/**
 * Lua scripts kept as files in ./lua, named `<name>-<numberOfKeys>.lua` (bullmq's convention), read once
 * by name and run with EVALSHA, falling back to EVAL when Redis does not know the script yet (restart,
 * failover, SCRIPT FLUSH). The SHA is of the file's text, so two deployed versions never run each other's.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { Cluster, type Redis } from 'ioredis';
import type { RedisCommands } from './redis-call';

/** One run of a script: its keys and arguments. */
export interface ScriptCall {
  keys: string[];
  args: Array<string | number | Buffer>;
}

/** What one run of a pipeline answered: the script's reply, or the error Redis (or the connection) gave. */
export type ScriptOutcome = { reply: unknown; error?: undefined } | { error: Error };

const LUA_DIR = new URL('./lua/', import.meta.url);

/** One script file, ready to run. */
export class LuaScript {
  /** SHA1 of the source: what EVALSHA names. */
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly numberOfKeys: number,
    readonly source: string,
    /** True for a script that takes its keys in groups of `numberOfKeys`, one group per item (a batch). */
    readonly repeatsKeys = false,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** `name:<sha prefix>`, for logs: which version of the script ran. */
  get id(): string {
    return `${this.name}:${this.sha.slice(0, 8)}`;
  }

  /** Runs the script; bulk strings in the reply come back as Buffers, integers as numbers. */
  async run(redis: RedisCommands, keys: string[], args: Array<string | number | Buffer>): Promise<unknown> {
    this.checkKeys(keys);
    const tail = [keys.length, ...keys, ...args];
    try {
      return await redis.callBuffer('EVALSHA', [this.sha, ...tail]);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.callBuffer('EVAL', [this.source, ...tail]);
    }
  }

  /**
   * Runs the script once per call in one pipeline (one write, one round trip; not a transaction: other
   * clients' commands may run in between). Outcomes come back per call, in order. Calls that met an empty
   * script cache (NOSCRIPT: nothing ran) are run again, in order, after a SCRIPT LOAD in the same pipeline.
   * The pipeline is written before the first await, so calls made one after another stay in call order.
   */
  async runMany(redis: RedisCommands, calls: readonly ScriptCall[]): Promise<ScriptOutcome[]> {
    for (const call of calls) this.checkKeys(call.keys);
    // A cluster pipeline must stay in one slot; here each call goes to its own shard, all sent before the
    // first await, so calls to one task (one slot, one connection) still run in call order.
    if (redis instanceof Cluster) {
      return Promise.all(calls.map(({ keys, args }) => this.run(redis, keys, args).then((reply): ScriptOutcome => ({ reply }), (error: Error): ScriptOutcome => ({ error }))));
    }
    const outcomes = await this.pipelined(redis, calls, false);
    const missing = outcomes.flatMap((outcome, i) => (outcome.error?.message.startsWith('NOSCRIPT') ? [i] : []));
    if (missing.length === 0) return outcomes;
    const retried = await this.pipelined(redis, missing.map((i) => calls[i]!), true);
    missing.forEach((index, k) => {
      outcomes[index] = retried[k]!;
    });
    return outcomes;
  }

  private async pipelined(redis: Redis, calls: readonly ScriptCall[], load: boolean): Promise<ScriptOutcome[]> {
    const pipeline = redis.pipeline();
    if (load) pipeline.script('LOAD', this.source);
    // one array (concat, not a spread call): a run of a batch script has thousands of arguments
    for (const { keys, args } of calls) pipeline.callBuffer('EVALSHA', ([this.sha, keys.length] as Array<string | number | Buffer>).concat(keys, args));
    const replies = await pipeline.exec();
    if (!replies) throw new Error(`${this.id}: the pipeline was discarded`);
    return replies.slice(load ? 1 : 0).map(([error, reply]) => (error ? { error } : { reply }));
  }

  private checkKeys(keys: string[]): void {
    if (this.repeatsKeys ? keys.length === 0 || keys.length % this.numberOfKeys !== 0 : keys.length !== this.numberOfKeys) {
      throw new Error(`${this.id} takes ${this.repeatsKeys ? 'a positive multiple of ' : ''}${this.numberOfKeys} keys, got ${keys.length}`);
    }
  }

  /** Loads the script into Redis's script cache so that the first EVALSHA finds it. */
  async preload(redis: RedisCommands): Promise<void> {
    await redis.script('LOAD', this.source);
  }
}

/**
 * Reads `lua/<name>-<n>.lua`; throws when there is no such file or more than one. `repeatsKeys`: the script
 * takes n keys per item of a batch (its header says so).
 */
export function loadLuaScript(name: string, options: { repeatsKeys?: boolean } = {}): LuaScript {
  const pattern = new RegExp(`^${name}-(\\d+)\\.lua$`);
  const matches = readdirSync(LUA_DIR).flatMap((file) => {
    const match = pattern.exec(file);
    return match ? [{ file, keys: Number(match[1]) }] : [];
  });
  if (matches.length !== 1) {
    throw new Error(`expected exactly one lua/${name}-<numberOfKeys>.lua, found ${matches.length}`);
  }
  const [{ file, keys }] = matches as [{ file: string; keys: number }];
  return new LuaScript(name, keys, readFileSync(new URL(file, LUA_DIR), 'utf8'), options.repeatsKeys ?? false);
}
