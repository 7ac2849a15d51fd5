/**
 * Per-task authorization for subscribes in jwt mode: the task's owner comes from its snapshot (`user_id`
 * and `project_id` of its start event, stored as JSON texts) and is checked with mayAccessTask. A task the
 * token grants by id needs no read. Insecure mode has no authorizer at all (the guide's behaviour).
 */
import { mayAccessTask, type TaskOwner } from '@taskpulse/auth';
import type { TaskStore } from '@taskpulse/engine';
import type { SnapshotTexts } from '@taskpulse/protocol';

/** Who asks to see a task: the connection's user, projects and granted task ids. */
export interface TaskViewer {
  userId?: string;
  projects: readonly string[];
  tasks: readonly string[];
}

/** Resolves true when the viewer may see the task; rejects when the owner could not be read (engine down). */
export type AuthorizeTask = (viewer: TaskViewer | undefined, taskId: string) => Promise<boolean>;

/** The jwt-mode authorizer: reads the owner from the engine's snapshot. */
export function createTaskAuthorizer(tasks: Pick<TaskStore, 'snapshot'>): AuthorizeTask {
  return async (viewer, taskId) => {
    if (viewer === undefined) return false;
    if (viewer.tasks.includes(taskId)) return true;
    if (viewer.userId === undefined && viewer.projects.length === 0) return false;
    const snapshot = await tasks.snapshot(taskId);
    const userId = viewer.userId ?? '';
    return mayAccessTask({ userId, projects: [...viewer.projects], tasks: [...viewer.tasks] }, snapshot === null ? null : ownerOf(snapshot.fields), taskId);
  };
}

/** The owner in a snapshot's JSON texts; a field that is absent or not a JSON string counts as no owner. */
export function ownerOf(fields: SnapshotTexts): NonNullable<TaskOwner> {
  const owner: NonNullable<TaskOwner> = {};
  const userId = jsonString(fields.user_id);
  if (userId !== undefined) owner.userId = userId;
  const projectId = jsonString(fields.project_id);
  if (projectId !== undefined) owner.projectId = projectId;
  return owner;
}

function jsonString(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined; // a stored field that is not JSON cannot name an owner; the task stays refused
  }
}
