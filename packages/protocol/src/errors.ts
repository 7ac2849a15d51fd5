import type { ErrorCode } from './codes';

/** A validation failure that names the field, what was expected and what came. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly code: ErrorCode,
    readonly field: string | undefined,
    message: string,
  ) {
    super(message);
  }
}
