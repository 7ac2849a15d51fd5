/** Typed engine errors; each carries a protocol error code and the task it concerns. */
import type { ErrorCode } from '@taskpulse/protocol';

export class EngineError extends Error {
  override name = 'EngineError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly taskId?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A progress event for a task that has completed, failed or been cancelled. */
export class TaskFinishedError extends EngineError {
  override name = 'TaskFinishedError';
  constructor(taskId: string, status: string) {
    super('task_finished', `task ${taskId} is ${status}; start it again before reporting progress`, taskId);
  }
}

/** A limit outside 0..100 or another bad read argument. */
export class EngineArgumentError extends EngineError {
  override name = 'EngineArgumentError';
  constructor(message: string) {
    super('bad_request', message);
  }
}

/** Redis (or another backing store) failed or is unreachable. */
export class EngineUnavailableError extends EngineError {
  override name = 'EngineUnavailableError';
  constructor(message: string, cause?: unknown) {
    super('unavailable', message, undefined, { cause });
  }
}
