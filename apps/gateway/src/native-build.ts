/**
 * Which native build of uWebSockets.js this process loaded. The package ships one binary per
 * platform, architecture and Node ABI and picks one at require time; logging it at start makes a
 * "works on my machine" report answerable from the logs alone.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface NativeBuild {
  /** npm package that provides `uWebSockets.js` and its version (it is an npm alias). */
  packageName: string;
  packageVersion: string;
  /** The upstream uWebSockets.js commit the package says it was built from, when it ships one. */
  sourceCommit?: string;
  /** The binary file the loader picks: uws_<platform>_<arch>_<abi>.node. */
  binary: string;
  binaryPresent: boolean;
  platform: string;
  arch: string;
  node: string;
  /** Node's module ABI version (process.versions.modules). */
  abi: string;
}

/** Describes the uWebSockets.js binary the loader picks for this process, reading only package files. */
export function describeNativeBuild(): NativeBuild {
  const require = createRequire(import.meta.url);
  const packageJson = require.resolve('uWebSockets.js/package.json');
  const dir = dirname(packageJson);
  const pkg = JSON.parse(readFileSync(packageJson, 'utf8')) as { name?: string; version?: string };
  const binary = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  const commitFile = join(dir, 'source_commit');
  const build: NativeBuild = {
    packageName: pkg.name ?? 'unknown',
    packageVersion: pkg.version ?? 'unknown',
    binary,
    binaryPresent: existsSync(join(dir, binary)),
    platform: process.platform,
    arch: process.arch,
    node: process.versions.node,
    abi: process.versions.modules,
  };
  if (existsSync(commitFile)) build.sourceCommit = readFileSync(commitFile, 'utf8').trim();
  return build;
}
