/**
 * Readiness beyond connection status: a stalled Redis (SIGSTOP, a full machine) keeps its sockets open, so
 * both Redis engines PING on a timer and count a PING outstanding for too long as "not ready".
 */
import type { EngineLogger } from './engine-logger';
import { EngineUnavailableError } from './errors';

/** What the check needs of a connection (one Redis or a Cluster). */
export interface Pingable {
  readonly status: string;
  ping(): Promise<unknown>;
}

/** A running check: `stalled` is true while a PING is outstanding for longer than the period. */
export interface PingHealthCheck {
  readonly stalled: boolean;
  stop(): void;
}

/** PINGs `connection` every `everyMs` while it is ready; logs once when it stalls (`what` names it). */
export function startPingHealthCheck(connection: Pingable, everyMs: number, logger: EngineLogger, what: string): PingHealthCheck {
  let sentAt: number | undefined;
  const check = { stalled: false, stop: () => clearInterval(timer) };
  const timer = setInterval(() => {
    if (sentAt !== undefined) {
      if (Date.now() - sentAt > everyMs && !check.stalled) {
        check.stalled = true;
        logger.warn({ waitedMs: Date.now() - sentAt }, `${what} does not answer PING: engine not ready`);
      }
      return;
    }
    if (connection.status !== 'ready') return;
    sentAt = Date.now();
    connection.ping().then(
      () => {
        sentAt = undefined;
        check.stalled = false;
      },
      () => {
        sentAt = undefined; // the connection's own events (close, error) say what happened; the next tick tries again
      },
    );
  }, everyMs);
  timer.unref();
  return check;
}

/**
 * Resolves once `isReady()`; throws EngineUnavailableError when `isClosed()` or after `timeoutMs` (with
 * `describe()` saying what was not ready). Start-up only: polling is simpler than joining connection events.
 */
export async function pollUntilReady(
  isReady: () => boolean,
  isClosed: () => boolean,
  timeoutMs: number,
  what: string,
  describe: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!isReady()) {
    if (isClosed()) throw new EngineUnavailableError(`the ${what} engine is closed`);
    if (Date.now() > deadline) throw new EngineUnavailableError(`${what} not ready after ${timeoutMs} ms (${describe()})`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
