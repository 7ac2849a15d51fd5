/**
 * Apps are compositions over packages; they never depend on one another (apps/start.ts, the all-in-one
 * composition outside every app, is the one place allowed to hold several). Checked in package.json and
 * in every source import, so a shortcut through the workspace symlinks fails here rather than in review.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const appsDir = new URL('../../', import.meta.url).pathname;
const apps = readdirSync(appsDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);
const appPackages = apps.map((app) => `@taskpulse/${app}`);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('app boundaries', () => {
  it('knows the apps', () => {
    expect(apps).toEqual(expect.arrayContaining(['api', 'gateway', 'worker']));
  });

  it.each(apps)('apps/%s declares no other app as a dependency', (app) => {
    const pkg = JSON.parse(readFileSync(join(appsDir, app, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    const declared = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies, ...pkg.peerDependencies });
    expect(declared.filter((name) => appPackages.includes(name))).toEqual([]);
  });

  it.each(apps)('apps/%s imports no other app, by name or by path', (app) => {
    const offending: string[] = [];
    for (const dir of ['src', 'test']) {
      let files: string[] = [];
      try {
        files = sourceFiles(join(appsDir, app, dir));
      } catch {
        continue;
      }
      for (const file of files) {
        for (const [, spec] of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)) {
          const other = appPackages.some((name) => name !== `@taskpulse/${app}` && (spec === name || spec!.startsWith(`${name}/`)));
          const byPath = spec!.startsWith('.') && relative(join(appsDir, app), join(file, '..', spec!)).startsWith('..');
          const intoApp = byPath && apps.some((a) => a !== app && join(file, '..', spec!).startsWith(join(appsDir, a) + '/'));
          if (other || intoApp) offending.push(`${relative(appsDir, file)}: ${spec}`);
        }
      }
    }
    expect(offending).toEqual([]);
  });
});
