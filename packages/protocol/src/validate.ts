/** Runtime checks for everything that enters the system; each failure names the field and what came. */
import { ProtocolError } from './errors';
import type { BroadcastMessage, TaskEvent } from './events';
import type { ClientMessage } from './frames';
import { idProblem } from './ids';
import { LIMITS } from './limits';

/** Longest token a refresh frame may carry (the client frame limit bounds it anyway). */
export const MAX_TOKEN_CHARS = 4000;

function fail(field: string, message: string): never {
  throw new ProtocolError('bad_request', field, `${field} ${message}`);
}

function describe(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return value === null ? 'null' : typeof value;
}

/** Throws unless the value is a valid id; `field` names it in the error. */
export function checkId(field: string, value: unknown): asserts value is string {
  const problem = idProblem(value);
  if (problem) fail(field, problem);
}

function checkText(field: string, value: unknown, maxChars: number): void {
  if (value === undefined) return;
  if (typeof value !== 'string') fail(field, `must be a string, got ${describe(value)}`);
  if (value.length > maxChars) fail(field, `must be at most ${maxChars} characters, got ${value.length}`);
}

function checkCount(field: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > LIMITS.maxSteps) {
    fail(field, `must be a whole number from 0 to ${LIMITS.maxSteps}, got ${describe(value)}`);
  }
}

function checkPercent(field: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 100) {
    fail(field, `must be a number from 0 to 100, got ${describe(value)}`);
  }
}

function checkSteps(completed: unknown, total: unknown): void {
  checkCount('completed_steps', completed);
  checkCount('total_steps', total);
  if (typeof completed === 'number' && typeof total === 'number' && completed > total) {
    fail('completed_steps', `must not exceed total_steps (${completed} > ${total})`);
  }
}

function checkTimestamp(value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) fail('timestamp', 'must be an ISO-8601 date-time');
}

/** UTF-8 length of a string without Buffer (this module also runs in browsers); lone surrogates count 3, as when encoded. */
function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** Encodes a task result as JSON, enforcing the size limit; undefined stays undefined. */
export function encodeResult(result: unknown): string | undefined {
  if (result === undefined) return undefined;
  let json: string | undefined;
  try {
    json = JSON.stringify(result);
  } catch (error) {
    fail('result', `must be JSON-serialisable (${(error as Error).message})`);
  }
  if (json === undefined) fail('result', 'must be JSON-serialisable');
  const bytes = utf8ByteLength(json);
  if (bytes > LIMITS.resultBytes) fail('result', `must be at most ${LIMITS.resultBytes} bytes as JSON, got ${bytes}`);
  return json;
}

/** Throws a ProtocolError naming the first invalid field of a task event. */
export function validateTaskEvent(event: TaskEvent): void {
  checkId('task_id', event.taskId);
  checkTimestamp(event.timestamp);
  switch (event.kind) {
    case 'start':
      if (event.userId !== undefined) checkId('user_id', event.userId);
      if (event.projectId !== undefined) checkId('project_id', event.projectId);
      return;
    case 'progress':
      // steps first: a percent derived from bad step counts (the reporter's) is then named by its cause
      checkSteps(event.completedSteps, event.totalSteps);
      checkPercent('progress', event.progress);
      checkText('message', event.message, LIMITS.messageChars);
      checkText('current_step', event.currentStep, LIMITS.stepNameChars);
      return;
    case 'complete':
      encodeResult(event.result);
      return;
    case 'fail':
      if (typeof event.error !== 'string' || event.error.length === 0) fail('error', 'must be a non-empty string');
      checkText('error', event.error, LIMITS.errorChars);
      return;
    case 'cancel':
      checkText('reason', event.reason, LIMITS.errorChars);
      return;
    default:
      fail('kind', `must be start, progress, complete, fail or cancel, got ${describe((event as { kind: unknown }).kind)}`);
  }
}

/** Throws a ProtocolError naming the first invalid field of a broadcast. */
export function validateBroadcast(scopeField: 'user_id' | 'project_id', scopeId: string, taskId: string, msg: BroadcastMessage): void {
  checkId(scopeField, scopeId);
  checkId('task_id', taskId);
  if (typeof msg !== 'object' || msg === null) fail('message', 'must be an object');
  checkPercent('progress', msg.progress);
  checkText('message', msg.message, LIMITS.messageChars);
  checkText('current_step', msg.currentStep, LIMITS.stepNameChars);
  checkSteps(msg.completedSteps, msg.totalSteps);
  checkTimestamp(msg.timestamp);
}

/** Parses one client -> server frame; throws a ProtocolError that says what is wrong. */
export function parseClientMessage(text: string): ClientMessage {
  if (text.length > LIMITS.clientFrameBytes) fail('frame', `must be at most ${LIMITS.clientFrameBytes} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    fail('frame', 'must be a JSON object');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('frame', 'must be a JSON object');
  const msg = value as Record<string, unknown>;
  const requestId = msg.request_id;
  if (requestId !== undefined && (typeof requestId !== 'string' || requestId.length > 64)) {
    fail('request_id', 'must be a string of at most 64 characters');
  }
  const base = requestId === undefined ? {} : { request_id: requestId as string };
  switch (msg.action) {
    case 'ping':
      return { action: 'ping', ...base };
    case 'refresh':
      if (typeof msg.token !== 'string' || msg.token.length === 0 || msg.token.length > MAX_TOKEN_CHARS) {
        fail('token', `must be a JWT string of at most ${MAX_TOKEN_CHARS} characters`);
      }
      return { action: 'refresh', token: msg.token, ...base };
    case 'unsubscribe':
      checkId('task_id', msg.task_id);
      return { action: 'unsubscribe', task_id: msg.task_id, ...base };
    case 'subscribe': {
      checkId('task_id', msg.task_id);
      const { offset, epoch } = msg;
      if (offset === undefined && epoch === undefined) return { action: 'subscribe', task_id: msg.task_id, ...base };
      if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
        fail('offset', `must be a whole number >= 0 given together with epoch, got ${describe(offset)}`);
      }
      if (typeof epoch !== 'string' || epoch.length === 0 || epoch.length > 64) {
        fail('epoch', `must be the epoch string received with offset, got ${describe(epoch)}`);
      }
      return { action: 'subscribe', task_id: msg.task_id, offset, epoch, ...base };
    }
    default:
      throw new ProtocolError(
        'unknown_action',
        'action',
        `action must be subscribe, unsubscribe, ping or refresh, got ${describe(msg.action)}`,
      );
  }
}
