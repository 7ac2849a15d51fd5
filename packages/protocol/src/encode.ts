/**
 * Turning events into bytes, once. A task's snapshot is a set of fields each kept as JSON text; a task
 * event is encoded as the fields it sets or clears and its frame template (task-frame.ts), which the
 * engine completes with the position and the fields the event left unchanged.
 */
import type { BroadcastMessage, TaskEvent } from './events';
import { broadcastFrameText, taskFrameTemplate, type FrameTemplate, type SnapshotField, type SnapshotTexts } from './task-frame';
import type { AckFrame, ErrorFrame } from './frames';
import type { ErrorCode } from './codes';
import { encodeResult, validateTaskEvent } from './validate';

/** A task event ready for an engine: the frame to store and the snapshot fields it sets or clears. */
export interface EncodedTaskEvent {
  taskId: string;
  frameType: 'progress' | 'status';
  /** Field name and JSON text, in a fixed order. */
  set: Array<[SnapshotField, string]>;
  unset: SnapshotField[];
  /** ms since epoch on the publisher's clock, when the event was encoded; the frame's `published_at`. */
  publishedAt: number;
  /** The frame, with its offset, epoch and the snapshot fields this event leaves unchanged still open. */
  frame: FrameTemplate;
}

const json = JSON.stringify;

/**
 * Validates and encodes a task event; throws a ProtocolError naming the bad field. `publishedAt` (default:
 * now) is stamped into the frame as `published_at`.
 */
export function encodeTaskEvent(event: TaskEvent, publishedAt: number = Date.now()): EncodedTaskEvent {
  const { taskId, frameType, set, unset } = snapshotChange(event);
  const frame = taskFrameTemplate(frameType, taskId, Object.fromEntries(set) as SnapshotTexts, publishedAt);
  return { taskId, frameType, set, unset, publishedAt, frame };
}

type SnapshotChange = Pick<EncodedTaskEvent, 'taskId' | 'frameType' | 'set' | 'unset'>;

/** Which snapshot fields the event sets and clears; status events set or clear result and error each time. */
function snapshotChange(event: TaskEvent): SnapshotChange {
  validateTaskEvent(event);
  const timestamp = json(event.timestamp ?? new Date().toISOString());
  const taskId = event.taskId;
  switch (event.kind) {
    case 'start': {
      const set: Array<[SnapshotField, string]> = [
        ['status', '"running"'],
        ['progress', '0'],
        ['current_step', '""'],
        ['total_steps', '0'],
        ['completed_steps', '0'],
        ['message', '""'],
        ['timestamp', timestamp],
      ];
      if (event.userId !== undefined) set.push(['user_id', json(event.userId)]);
      if (event.projectId !== undefined) set.push(['project_id', json(event.projectId)]);
      return { taskId, frameType: 'status', set, unset: ['result', 'error'] };
    }
    case 'progress': {
      const set: Array<[SnapshotField, string]> = [
        ['status', '"running"'],
        ['progress', json(event.progress)],
        ['timestamp', timestamp],
      ];
      if (event.message !== undefined) set.push(['message', json(event.message)]);
      if (event.currentStep !== undefined) set.push(['current_step', json(event.currentStep)]);
      if (event.completedSteps !== undefined) set.push(['completed_steps', json(event.completedSteps)]);
      if (event.totalSteps !== undefined) set.push(['total_steps', json(event.totalSteps)]);
      return { taskId, frameType: 'progress', set, unset: [] };
    }
    case 'complete': {
      const set: Array<[SnapshotField, string]> = [
        ['status', '"completed"'],
        ['progress', '100'],
        ['timestamp', timestamp],
      ];
      const result = encodeResult(event.result);
      if (result !== undefined) set.push(['result', result]);
      return { taskId, frameType: 'status', set, unset: result === undefined ? ['result', 'error'] : ['error'] };
    }
    case 'fail':
      return {
        taskId,
        frameType: 'status',
        set: [['status', '"failed"'], ['error', json(event.error)], ['timestamp', timestamp]],
        unset: ['result'],
      };
    case 'cancel': {
      const set: Array<[SnapshotField, string]> = [['status', '"cancelled"'], ['timestamp', timestamp]];
      if (event.reason !== undefined) set.push(['error', json(event.reason)]);
      return { taskId, frameType: 'status', set, unset: event.reason === undefined ? ['result', 'error'] : ['result'] };
    }
  }
}

/** Encodes a broadcast to a user's or project's connections (no offset: it is not a task event). */
export function encodeBroadcastFrame(scope: 'user' | 'project', taskId: string, msg: BroadcastMessage, publishedAt: number = Date.now()): string {
  const values: SnapshotTexts = {
    progress: json(msg.progress),
    timestamp: json(msg.timestamp ?? new Date().toISOString()),
  };
  if (msg.currentStep !== undefined) values.current_step = json(msg.currentStep);
  if (msg.totalSteps !== undefined) values.total_steps = json(msg.totalSteps);
  if (msg.completedSteps !== undefined) values.completed_steps = json(msg.completedSteps);
  if (msg.message !== undefined) values.message = json(msg.message);
  return broadcastFrameText(scope, taskId, values, publishedAt);
}

/** The first frame of every connection. */
export function encodeConnectedFrame(clientId: string, userId?: string, projectId?: string, restoredTasks?: readonly string[]): string {
  return json({ type: 'connected', payload: { client_id: clientId, user_id: userId, project_id: projectId, restored_tasks: restoredTasks } });
}

/** An error frame; `requestId` and `taskId` echo the request it answers. */
export function encodeErrorFrame(
  code: ErrorCode,
  message: string,
  extra: { field?: string; requestId?: string; taskId?: string } = {},
): string {
  const frame: ErrorFrame = { type: 'error', payload: { code, message } };
  if (extra.field !== undefined) frame.payload.field = extra.field;
  if (extra.requestId !== undefined) frame.request_id = extra.requestId;
  if (extra.taskId !== undefined) frame.task_id = extra.taskId;
  return json(frame);
}

/** An ack frame for a subscribe, unsubscribe or ping. */
export function encodeAckFrame(
  action: AckFrame['action'],
  extra: { taskId?: string; requestId?: string; recovered?: boolean; offset?: number; epoch?: string } = {},
): string {
  const frame: AckFrame = { type: 'ack', action, payload: {} };
  if (extra.taskId !== undefined) frame.task_id = extra.taskId;
  if (extra.requestId !== undefined) frame.request_id = extra.requestId;
  if (extra.recovered !== undefined) frame.payload.recovered = extra.recovered;
  if (extra.offset !== undefined) frame.payload.offset = extra.offset;
  if (extra.epoch !== undefined) frame.payload.epoch = extra.epoch;
  return json(frame);
}
