/**
 * The configuration reference comes from the readers themselves: every reader tells what it reads (name,
 * form, default) to an environment made by `describingEnv`, and to nothing otherwise. Running a loader on
 * such an environment lists exactly the variables it validates, with the forms its errors would name, so
 * the README's reference (scripts/config-reference.ts) cannot drift from the code.
 */
import type { Env } from './config-error';

/** One variable as a reader sees it. */
export interface VariableDescription {
  name: string;
  /** The form it must take, as the reader's ConfigError says it. */
  form: string;
  /** The value used when it is unset, as text (a list comma-joined, so '' is the empty list); undefined when there is none. */
  fallback?: string;
  /** True when the process cannot start without it. */
  required: boolean;
}

const SINK = Symbol.for('taskpulse.config.describe');
type Describing = Env & { [SINK]?: VariableDescription[] };

/** An environment holding `values` that records every variable a reader reads from it, in reading order. */
export function describingEnv(values: Env = {}): { env: Env; described: VariableDescription[] } {
  const described: VariableDescription[] = [];
  const env: Describing = { ...values };
  Object.defineProperty(env, SINK, { value: described, enumerable: false });
  return { env, described };
}

/**
 * Records one variable on a describing environment (a no-op on any other). Readers call it; so does a
 * loader that reads a variable with `readRaw` and checks it itself.
 */
export function describeVariable(env: Env, name: string, form: string, options: { fallback?: unknown; required?: boolean } = {}): void {
  const sink = (env as Describing)[SINK];
  if (sink === undefined) return;
  const description: VariableDescription = { name, form, required: options.required ?? false };
  if (options.fallback !== undefined) description.fallback = fallbackText(options.fallback);
  sink.push(description);
}

function fallbackText(fallback: unknown): string {
  if (Array.isArray(fallback)) return fallback.join(',');
  return String(fallback);
}
