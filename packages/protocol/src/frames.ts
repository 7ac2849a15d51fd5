/**
 * Every frame on the wire. Server frames keep the guide's (docs/progress-tracking-guide.zh.md) field names
 * exactly; task events add `offset` (per task, strictly increasing) and `epoch` (changes whenever the
 * task's history was lost) at the top level, and task events and broadcasts add `published_at`.
 */
import type { ErrorCode } from './codes';
import type { TaskStatus } from './status';

/** The guide's progress payload: every field always present. */
export interface ProgressPayload {
  task_id: string;
  progress: number;
  current_step: string;
  total_steps: number;
  completed_steps: number;
  message: string;
  status: TaskStatus;
  /** ISO-8601 */
  timestamp: string;
}

/** The guide's status payload; `result` on completion, `error` on failure. */
export interface StatusPayload {
  task_id: string;
  status: TaskStatus;
  result?: unknown;
  error?: string;
  timestamp: string;
}

/** Where a task event stands in its task's stream. */
export interface StreamPosition {
  offset: number;
  epoch: string;
}

/**
 * When the publisher encoded the event: ms since epoch on its clock (top level, outside the guide's payload).
 * Optional for readers: frames kept from before the field existed, and other guide-compatible servers, lack it.
 */
export interface PublishedAt {
  published_at?: number;
}

export interface ProgressFrame extends StreamPosition, PublishedAt {
  type: 'progress';
  /**
   * Present (true) when older progress frames of this task were skipped for this client because it read
   * too slowly: the offset jumps past them. Status frames are never skipped. See apps/gateway slow-sockets.ts.
   */
  conflated?: true;
  task_id: string;
  payload: ProgressPayload;
}

export interface StatusFrame extends StreamPosition, PublishedAt {
  type: 'status';
  task_id: string;
  payload: StatusPayload;
}

/** A task event: stored in the task's history and sent to the task's subscribers. */
export type TaskEventFrame = ProgressFrame | StatusFrame;

/**
 * A broadcast to a user's or a project's connections. It is a notification, not a task event: it is not
 * kept in history and carries no offset; `scope` tells it apart.
 */
export interface BroadcastFrame extends PublishedAt {
  type: 'progress';
  task_id: string;
  scope: 'user' | 'project';
  payload: ProgressPayload;
}

export interface ConnectedFrame {
  type: 'connected';
  /** `restored_tasks`: the task subscriptions restored from `old_client_id`'s session (each then gets an ack). */
  payload: { client_id: string; user_id?: string; project_id?: string; restored_tasks?: string[] };
}

export interface ErrorFrame {
  type: 'error';
  request_id?: string;
  task_id?: string;
  payload: { code: ErrorCode; message: string; field?: string };
}

/** The answer to a subscribe or unsubscribe; on subscribe, `recovered` says whether a resume was exact. */
export interface AckFrame {
  type: 'ack';
  /** `resync`: after an engine outage the task's history could not cover the hole; state frames precede it. */
  action: 'subscribe' | 'unsubscribe' | 'ping' | 'refresh' | 'resync';
  task_id?: string;
  request_id?: string;
  payload: { recovered?: boolean; offset?: number; epoch?: string };
}

export type ServerFrame = TaskEventFrame | BroadcastFrame | ConnectedFrame | ErrorFrame | AckFrame;

/** Client -> server. `offset` and `epoch` (both or neither) ask to resume after that position. */
export type ClientMessage =
  | { action: 'subscribe'; task_id: string; request_id?: string; offset?: number; epoch?: string }
  | { action: 'unsubscribe'; task_id: string; request_id?: string }
  | { action: 'ping'; request_id?: string }
  /** jwt mode: a fresh token for the same `sub`, sent before the connection's token expires (else close 4502). */
  | { action: 'refresh'; token: string; request_id?: string };
