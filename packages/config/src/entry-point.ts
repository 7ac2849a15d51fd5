/**
 * How every entry point starts and stops. Start: its configuration is read once, and a ConfigError ends
 * the process with exit 1 and a line naming the variable. Stop: on SIGTERM or SIGINT it closes what it
 * opened, in order, and exits 0 (1 when closing failed); a second signal while closing exits 1 at once.
 */
import { ConfigError } from './config-error';

/** Reads the configuration; on a ConfigError prints `<name>: configuration error: …` and exits 1. */
export function configOrExit<T>(name: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${name}: configuration error: ${error.message}\n`);
    process.exit(1);
  }
}

/** The few logger methods this needs (pino's). */
export interface ShutdownLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Installs the SIGTERM/SIGINT handlers; `what` names the closing in logs, e.g. "draining the gateway". */
export function exitOnSignals(logger: ShutdownLogger, what: string, close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, `second signal while ${what}: exiting at once`);
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, what);
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, `${what} failed`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
