/**
 * The one error every entry point reports for bad configuration. It names the variable, the form it
 * must take and what it got, so a bad deployment says what to fix.
 */

/** A missing or malformed environment variable; `variable` names it and the message says what was expected. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    readonly expected: string,
    readonly got: string | undefined,
  ) {
    super(`${variable} must be ${expected}, got ${got === undefined ? 'nothing' : JSON.stringify(got)}`);
  }
}

/** The environment as the readers see it (process.env, or a plain object in tests). */
export type Env = Record<string, string | undefined>;
