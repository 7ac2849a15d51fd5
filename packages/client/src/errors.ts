/** Errors the client hands to promises and `error` handlers: a code (the server's, or `timeout`/`disconnected`/`closed`) and context. */
import type { ErrorCode } from '@taskpulse/protocol';

/** Codes of errors raised by the client itself rather than sent by the server. */
export type ClientErrorCode = 'timeout' | 'disconnected' | 'closed' | 'bad_frame';

/** An error frame from the server, or a failure the client detected; `code` says which. */
export class TaskpulseError extends Error {
  override readonly name = 'TaskpulseError';
  constructor(
    readonly code: ErrorCode | ClientErrorCode,
    message: string,
    readonly context: { taskId?: string; requestId?: string; field?: string; closeCode?: number } = {},
  ) {
    super(message);
  }
}
