/**
 * Lua scripts kept as files in ./lua, named `<name>-<numberOfKeys>.lua` (bullmq's convention), read once
 * by name and run with EVALSHA, falling back to EVAL when Redis does not know the script yet (restart,
 * failover, SCRIPT FLUSH). The SHA is of the file's text, so two deployed versions never run each other's.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { RedisCommands } from './redis-call';

const LUA_DIR = new URL('./lua/', import.meta.url);

/** One script file, ready to run. */
export class LuaScript {
  /** SHA1 of the source: what EVALSHA names. */
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly numberOfKeys: number,
    readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** `name:<sha prefix>`, for logs: which version of the script ran. */
  get id(): string {
    return `${this.name}:${this.sha.slice(0, 8)}`;
  }

  /** Runs the script; bulk strings in the reply come back as Buffers, integers as numbers. */
  async run(redis: RedisCommands, keys: string[], args: Array<string | number | Buffer>): Promise<unknown> {
    if (keys.length !== this.numberOfKeys) {
      throw new Error(`${this.id} takes ${this.numberOfKeys} keys, got ${keys.length}`);
    }
    const tail = [this.numberOfKeys, ...keys, ...args];
    try {
      return await redis.callBuffer('EVALSHA', [this.sha, ...tail]);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.callBuffer('EVAL', [this.source, ...tail]);
    }
  }

  /** Loads the script into Redis's script cache so that the first EVALSHA finds it. */
  async preload(redis: RedisCommands): Promise<void> {
    await redis.script('LOAD', this.source);
  }
}

/** Reads `lua/<name>-<n>.lua`; throws when there is no such file or more than one. */
export function loadLuaScript(name: string): LuaScript {
  const pattern = new RegExp(`^${name}-(\\d+)\\.lua$`);
  const matches = readdirSync(LUA_DIR).flatMap((file) => {
    const match = pattern.exec(file);
    return match ? [{ file, keys: Number(match[1]) }] : [];
  });
  if (matches.length !== 1) {
    throw new Error(`expected exactly one lua/${name}-<numberOfKeys>.lua, found ${matches.length}`);
  }
  const [{ file, keys }] = matches as [{ file: string; keys: number }];
  return new LuaScript(name, keys, readFileSync(new URL(file, LUA_DIR), 'utf8'));
}
