/** The per-task rule: who may see a task's state, frames and history. */
import type { VerifiedIdentity } from './token-verifier';

/** A task's owner from its start event; null for a task that does not exist (or expired). */
export type TaskOwner = { userId?: string; projectId?: string } | null;

/**
 * True when the task belongs to the identity's user or one of its projects, or the token grants it by id.
 * An unknown task (null owner) is refused like a foreign one unless granted: no existence oracle.
 */
export function mayAccessTask(identity: Pick<VerifiedIdentity, 'userId' | 'projects' | 'tasks'>, owner: TaskOwner, taskId: string): boolean {
  if (identity.tasks.includes(taskId)) return true;
  if (owner === null) return false;
  if (owner.userId !== undefined && owner.userId === identity.userId) return true;
  return owner.projectId !== undefined && identity.projects.includes(owner.projectId);
}
