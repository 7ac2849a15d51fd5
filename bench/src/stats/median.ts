/**
 * The median of several runs of the same measurement, field by field: numbers take the median of the
 * runs that have them, records merge by key (so a level missing in one run still counts in the others),
 * everything else takes the first run's value.
 */

/** The median of finite numbers, NaN when there are none. */
export function median(values: number[]): number {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const mid = finite.length >> 1;
  return finite.length % 2 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2;
}

/** Field-by-field median of values of one shape. */
export function medianOfRuns<T>(runs: T[]): T {
  const present = runs.filter((r) => r !== undefined && r !== null);
  if (present.length === 0) return runs[0] as T;
  const first = present[0];
  if (typeof first === 'number') return median(present as number[]) as T;
  if (Array.isArray(first)) return first as T;
  if (typeof first === 'object') {
    const keys = new Set<string>();
    for (const r of present) for (const k of Object.keys(r as object)) keys.add(k);
    const out: Record<string, unknown> = {};
    for (const k of keys) out[k] = medianOfRuns(present.map((r) => (r as Record<string, unknown>)[k]));
    return out as T;
  }
  return first as T;
}
