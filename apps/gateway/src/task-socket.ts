/**
 * The socket as the subscription logic sees it (task-subscriptions.ts, topic-handover.ts): a Connection
 * implements it, tests may too.
 */
import type { ErrorCode } from '@taskpulse/protocol';
import type { TaskViewer } from './task-authorization';

/** What the subscription logic needs from its socket; every call is a no-op once `closed`. */
export interface TaskSocket {
  readonly closed: boolean;
  readonly clientId: string;
  /** Who the socket is, for per-task authorization (jwt mode); absent means "sees nothing" there. */
  readonly viewer?: TaskViewer;
  /** Runs `fn` corked, so everything it sends leaves in one write and nothing interleaves. */
  cork(fn: () => void): void;
  send(frame: string | Buffer): void;
  sendError(code: ErrorCode, message: string, extra?: { field?: string; requestId?: string; taskId?: string }): void;
  subscribeTopic(topic: string): void;
  unsubscribeTopic(topic: string): void;
}
