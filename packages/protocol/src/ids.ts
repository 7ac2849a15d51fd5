/** Id rules shared by task, user and project ids: what a client, a worker or a URL may carry. */

/** Longest id accepted anywhere. */
export const MAX_ID_LENGTH = 128;

/**
 * Letters, digits and `_ . : @ -`: enough for UUIDs, BullMQ job ids and e-mail-like user ids, and free
 * of the braces, spaces and wildcards that would break Redis hash tags or pattern channels.
 */
export const ID_PATTERN = /^[A-Za-z0-9_.:@-]{1,128}$/;

export type IdKind = 'task_id' | 'user_id' | 'project_id' | 'client_id';

/** Returns a reason the value is not a valid id, or null when it is one. */
export function idProblem(value: unknown): string | null {
  if (typeof value !== 'string') return `expected a string, got ${value === null ? 'null' : typeof value}`;
  if (value.length === 0) return 'must not be empty';
  if (value.length > MAX_ID_LENGTH) return `must be at most ${MAX_ID_LENGTH} characters, got ${value.length}`;
  if (!ID_PATTERN.test(value)) return 'may contain only letters, digits and _ . : @ -';
  return null;
}

/** True when the value is a valid task, user or project id. */
export function isValidId(value: unknown): value is string {
  return idProblem(value) === null;
}
