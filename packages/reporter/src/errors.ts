/**
 * The reporter's one error of its own. Input problems surface as ReporterInputError (never as a bare
 * ProtocolError), so job code has one type to catch; it carries the same `code` and `field` as
 * ProtocolError (which it wraps as `cause` when protocol validation found the problem), so the API can
 * map both to a 400 the same way. Engine errors (TaskFinishedError, EngineUnavailableError…) pass through.
 */
import { ProtocolError, type ErrorCode } from '@taskpulse/protocol';

/** A reporter call got bad input; nothing was written. `field` uses the wire name (e.g. `progress`, `total_steps`). */
export class ReporterInputError extends Error {
  override readonly name = 'ReporterInputError';
  readonly code: ErrorCode = 'bad_request';
  constructor(
    /** The reporter method that refused the call, e.g. `updateProgress`. */
    readonly method: string,
    readonly field: string,
    /** What is wrong, e.g. `progress must be a number from 0 to 100, got 150`. */
    readonly problem: string,
    readonly taskId?: string,
    options?: { cause?: unknown },
  ) {
    super(`${method}${taskId === undefined ? '' : `(${taskId})`}: ${problem}`, options);
  }
}

/** Runs a protocol validation or encoding step and turns its ProtocolError into a ReporterInputError. */
export function asInputError<T>(method: string, taskId: string | undefined, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof ProtocolError) {
      throw new ReporterInputError(method, error.field ?? 'input', error.message, printableId(taskId), { cause: error });
    }
    throw error;
  }
}

/** A task id fit to quote in a message (the id itself may be the invalid part). */
export function printableId(taskId: unknown): string | undefined {
  if (typeof taskId !== 'string') return undefined;
  return taskId.length > 64 ? `${taskId.slice(0, 64)}…` : taskId;
}
