/**
 * A private redis-server for tests and benchmarks: its own free port, nothing on disk (unless asked for
 * persistence), stopped with the process that started it. Never the machine's shared Redis on 6379.
 * Failure tests can restart it on the same port and directory (`restart`), as an outage would.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';
import { waitFor } from './wait-for';

export interface RedisServer {
  url: string;
  port: number;
  /** The running redis-server (a new one after each restart). */
  readonly process: ChildProcess;
  /** The server's own directory (its AOF files with persistence on); removed by `stop`. */
  dir: string;
  /**
   * Stops the server (SHUTDOWN, which writes the AOF first, or SIGKILL with `kill`), waits `downMs`, and
   * starts it again on the same port and directory: with persistence on, what was written survives.
   */
  restart(options?: { kill?: boolean; downMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

export interface RedisServerOptions {
  /** Append-only file on (fsync every second) in the server's directory, so data survives `restart`. */
  persistence?: boolean;
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

/** Sends one inline command and resolves with the first reply line ('' when the connection closed first). */
function command(port: number, line: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.setTimeout(2000);
    socket.once('connect', () => socket.write(`${line}\r\n`));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString());
    });
    socket.once('close', () => resolve(''));
    socket.once('error', () => resolve(''));
    socket.once('timeout', () => socket.destroy());
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts redis-server on a free port, persistence off unless `options.persistence`; `extraArgs` are appended as they are. */
export async function startRedisServer(extraArgs: string[] = [], options: RedisServerOptions = {}): Promise<RedisServer> {
  const binary = ensureRedisServerBinary();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'taskpulse-redis-'));
  const persistence = options.persistence ? ['--appendonly', 'yes', '--appendfsync', 'everysec'] : ['--appendonly', 'no'];
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', dir, '--daemonize', 'no', ...extraArgs];
  let child = await launch(binary, args, port);
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    get process() {
      return child;
    },
    async restart({ kill = false, downMs = 0 } = {}) {
      const gone = exited(child);
      if (kill) child.kill('SIGKILL');
      else await command(port, 'SHUTDOWN');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await gone;
      }
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      child = await launch(binary, args, port);
    },
    async stop() {
      process.off('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        const gone = exited(child);
        child.kill('SIGTERM');
        await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Spawns redis-server and resolves once it answers PING on `port`; kills it and throws otherwise. */
async function launch(binary: string, args: string[], port: number): Promise<ChildProcess> {
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
