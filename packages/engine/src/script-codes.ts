/**
 * The codes Lua scripts return as the first element of their reply (bullmq style): 0 and above are
 * outcomes, negative values are refusals that one function maps to typed errors.
 */
import { EngineError, EngineUnavailableError, TaskFinishedError } from './errors';

/** Reply codes of publish-task-events, one per event (the Lua header lists the same). */
export enum ScriptCode {
  /** The event was written and published. */
  Published = 0,
  /** A dedupe id not newer than the source's last one: nothing written. */
  Duplicate = 1,
  /** Progress on a completed, failed or cancelled task: nothing written. */
  TaskFinished = -1,
  /** A Redis command of this event failed (the reply's second element is Redis's message): the run went on. */
  CommandFailed = -2,
}

/** The typed error for a negative script code; `detail` is the reply's second element (e.g. the status). */
export function scriptCodeError(code: number, taskId: string, detail: string): EngineError {
  switch (code) {
    case ScriptCode.TaskFinished:
      return new TaskFinishedError(taskId, unquote(detail));
    case ScriptCode.CommandFailed:
      // as a failed command of a single script run was before batches: Redis failed this operation
      return new EngineUnavailableError(`redis failed to publish an event of task ${taskId}: ${detail}`);
    default:
      return new EngineError('internal', `publish script returned unknown code ${code} for task ${taskId}`, taskId);
  }
}

/** Statuses are stored as JSON texts (`"completed"`); the error wants the bare word. */
function unquote(text: string): string {
  return text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1) : text;
}
