/**
 * A full garbage collection on demand, for the load generators: opening thousands of connections leaves
 * garbage whose collection would otherwise land, as a stall of the client, inside a measured window.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as (() => void) | undefined;

/** Collects now; returns how long it took in ms (0 when the runtime does not allow it). */
export function collectGarbage(): number {
  if (typeof gc !== 'function') return 0;
  const t0 = performance.now();
  gc();
  return Math.round((performance.now() - t0) * 10) / 10;
}
