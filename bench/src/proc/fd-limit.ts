/**
 * Tens of thousands of sockets need more file descriptors than the usual soft limit. Root can raise this
 * process's limit with prlimit(1); child processes started afterwards inherit it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The soft limit on open files of this process. */
export function openFilesLimit(): number {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const match = limits.match(/^Max open files\s+(\d+|unlimited)/m);
  return !match || match[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(match[1]);
}

/** Tries to raise the limit to `wanted`; returns the limit in force afterwards. */
export function raiseOpenFilesLimit(wanted: number): number {
  if (openFilesLimit() >= wanted) return openFilesLimit();
  try {
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${wanted}:${wanted}`], { stdio: 'ignore' });
  } catch {
    // Not root or no prlimit: the caller caps connection counts by what is left.
  }
  return openFilesLimit();
}
