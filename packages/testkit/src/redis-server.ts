/**
 * A private redis-server for tests and benchmarks: its own free port, nothing on disk, stopped with the
 * process that started it. Never the machine's shared Redis on 6379.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';
import { waitFor } from './wait-for';

export interface RedisServer {
  url: string;
  port: number;
  /** The running redis-server (a new one after `restart`). */
  readonly process: ChildProcess;
  /** The data directory (kept across restarts; an append-only file there survives a kill with `--appendonly yes`). */
  dir: string;
  /**
   * Kills the server with SIGKILL (a crash: nothing flushed beyond what its fsync policy wrote) and starts a
   * new one on the same port and directory with the same arguments; `flush` empties the directory first,
   * so the new server starts without data. Resolves once the new server answers PING.
   */
  restart(options?: { flush?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

/** The path of redis-server, installing it with apt-get when missing and we are root; throws how to install otherwise. */
export function ensureRedisServerBinary(): string {
  const find = () => {
    try {
      return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  let path = find();
  if (path) return path;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && existsApt()) {
    process.stderr.write('redis-server is missing: installing it with apt-get (Debian package redis-server)\n');
    execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server'], {
      stdio: 'inherit',
    });
    path = find();
    if (path) return path;
  }
  throw new Error(
    'redis-server is not installed. Install it (Debian/Ubuntu: `sudo apt-get install -y redis-server`, macOS: `brew install redis`) or set REDIS_URL to a Redis you own.',
  );
}

function existsApt(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.setTimeout(500);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** Starts redis-server on a free port with persistence off; `extraArgs` are appended as they are (later ones win). */
export async function startRedisServer(extraArgs: string[] = []): Promise<RedisServer> {
  const binary = ensureRedisServerBinary();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'taskpulse-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', ...extraArgs];
  let child = await spawnRedis(binary, args, port);
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    get process() {
      return child;
    },
    async restart(options = {}) {
      await killAndWait(child, 'SIGKILL', 3000);
      if (options.flush) {
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir, { recursive: true });
      }
      child = await spawnRedis(binary, args, port);
    },
    async stop() {
      process.off('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGCONT'); // a test may have stopped it
        await killAndWait(child, 'SIGTERM', 3000);
        if (child.exitCode === null && child.signalCode === null) await killAndWait(child, 'SIGKILL', 3000);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Spawns redis-server and waits until it answers PING; kills it and throws when it does not. */
async function spawnRedis(binary: string, args: string[], port: number): Promise<ChildProcess> {
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  try {
    await waitFor(`redis-server on port ${port}`, async () => {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}: ${stderr}`);
      return ping(port);
    });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return child;
}

/** Sends `signal` and waits up to `timeoutMs` for the process to exit. */
async function killAndWait(child: ChildProcess, signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await Promise.race([exited, new Promise((r) => setTimeout(r, timeoutMs))]);
}
