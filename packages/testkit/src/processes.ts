/**
 * Child processes for end-to-end tests and benchmarks: started with tsx, their output kept for error
 * messages, and always killed when the test or the parent process ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface ManagedProcess {
  child: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves when a line of its output matches. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code or signal. */
  stop(graceMs?: number): Promise<number | string | null>;
  /** SIGKILL at once, as a crash would. */
  kill(): Promise<void>;
}

// tsx as a loader in the one node process (not its CLI, which forks a second process that a SIGKILL would orphan).
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** Runs a TypeScript file with tsx in a child process with the given environment added; `nodeArgs` go to node itself. */
export function startTsProcess(file: string, env: Record<string, string>, args: string[] = [], nodeArgs: string[] = []): ManagedProcess {
  const child = spawn(process.execPath, [...nodeArgs, '--import', tsxLoader, file, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let output = '';
  const watchers = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
    for (const watcher of watchers) watcher();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      for (const watcher of watchers) watcher();
      resolve(code ?? signal);
    }),
  );
  return {
    child,
    output: () => output,
    waitForOutput(pattern, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = output.match(pattern);
          if (match) return done(() => resolve(match[0]));
          if (child.exitCode !== null || child.signalCode !== null) {
            done(() => reject(new Error(`${file} exited before printing ${pattern}:\n${output}`)));
          }
        };
        const timer = setTimeout(() => done(() => reject(new Error(`${file} did not print ${pattern} in ${timeoutMs} ms:\n${output}`))), timeoutMs);
        const done = (finish: () => void) => {
          clearTimeout(timer);
          watchers.delete(check);
          finish();
        };
        watchers.add(check);
        check();
      });
    },
    async stop(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
