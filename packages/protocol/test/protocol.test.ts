import { describe, expect, it } from 'vitest';
import {
  CLOSE_CODES,
  encodeAckFrame,
  encodeBroadcastFrame,
  encodeConnectedFrame,
  encodeErrorFrame,
  encodeTaskEvent,
  fillTaskFrame,
  idProblem,
  progressBodyText,
  LIMITS,
  parseClientMessage,
  ProtocolError,
  projectChannel,
  shouldReconnect,
  taskChannel,
  userChannel,
  type FrameTemplate,
  type SnapshotTexts,
  type TaskEvent,
} from '../src/index';
import { frameEpochIs, readFrameEpoch, readFrameOffset, readFramePublishedAt } from '../src/node';

const GUIDE_PROGRESS_FIELDS = ['task_id', 'progress', 'current_step', 'total_steps', 'completed_steps', 'message', 'status', 'timestamp'];

const PUBLISHED_AT = 1_764_756_000_123;

/** The snapshot after the events, as an engine keeps it, and the last event's frame template. */
function snapshotAfter(...events: TaskEvent[]): { fields: SnapshotTexts; frame: FrameTemplate } {
  const fields: SnapshotTexts = {};
  let frame: FrameTemplate = { texts: [''], slots: [] };
  for (const event of events) {
    const encoded = encodeTaskEvent(event, PUBLISHED_AT);
    for (const [name, value] of encoded.set) fields[name] = value;
    for (const name of encoded.unset) delete fields[name];
    frame = encoded.frame;
  }
  return { fields, frame };
}

function expectProtocolError(run: () => unknown, field: string, text: RegExp): void {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).field).toBe(field);
    expect((error as Error).message).toMatch(text);
    return;
  }
  throw new Error(`expected a ProtocolError on ${field}`);
}

describe('ids', () => {
  it('accepts guide-style ids and rejects the rest with a reason', () => {
    for (const id of ['task-123', 'user-123', 'project-456', '42', 'a@b.example', 'x'.repeat(128)]) expect(idProblem(id)).toBeNull();
    expect(idProblem('')).toMatch(/empty/);
    expect(idProblem('x'.repeat(129))).toMatch(/at most 128/);
    expect(idProblem('a b')).toMatch(/letters/);
    expect(idProblem('{t:x}')).toMatch(/letters/);
    expect(idProblem(5)).toMatch(/string/);
  });
});

describe('task frames', () => {
  it('lays out a progress frame with exactly the guide fields plus offset and epoch', () => {
    const { frame: template, fields } = snapshotAfter(
      { kind: 'start', taskId: 'task-123', userId: 'u1', projectId: 'p1', timestamp: '2026-02-21T10:29:00Z' },
      {
        kind: 'progress',
        taskId: 'task-123',
        progress: 50,
        currentStep: '视频转码',
        completedSteps: 2,
        totalSteps: 4,
        message: '正在转码视频...',
        timestamp: '2026-02-21T10:30:00Z',
      },
    );
    const text = fillTaskFrame(template, 7, 'abc123', fields);
    const frame = JSON.parse(text);
    expect(frame).toEqual({
      type: 'progress',
      task_id: 'task-123',
      offset: 7,
      epoch: 'abc123',
      published_at: PUBLISHED_AT,
      payload: {
        task_id: 'task-123',
        progress: 50,
        current_step: '视频转码',
        total_steps: 4,
        completed_steps: 2,
        message: '正在转码视频...',
        status: 'running',
        timestamp: '2026-02-21T10:30:00Z',
      },
    });
    expect(Object.keys(frame.payload)).toEqual(GUIDE_PROGRESS_FIELDS);
    expect(Object.keys(frame)).toEqual(['type', 'task_id', 'offset', 'epoch', 'published_at', 'payload']);
    expect(readFrameOffset(Buffer.from(text))).toBe(7);
    expect(readFramePublishedAt(Buffer.from(text))).toBe(PUBLISHED_AT);
  });

  it('keeps earlier step fields when a later update gives only percent and message', () => {
    const { fields, frame } = snapshotAfter(
      { kind: 'progress', taskId: 't', progress: 25, currentStep: 'download', completedSteps: 1, totalSteps: 4 },
      { kind: 'progress', taskId: 't', progress: 30, message: 'still downloading' },
    );
    expect(frame.slots.map((slot) => (slot.kind === 'field' ? slot.field : slot.kind))).toEqual([
      'offset',
      'epoch',
      'current_step',
      'total_steps',
      'completed_steps',
    ]);
    const payload = JSON.parse(fillTaskFrame(frame, 2, 'e', fields)).payload;
    expect(payload).toMatchObject({ progress: 30, current_step: 'download', completed_steps: 1, total_steps: 4, message: 'still downloading' });
  });

  it('lays out status frames for completion with result and failure with error', () => {
    const done = snapshotAfter(
      { kind: 'start', taskId: 't' },
      { kind: 'complete', taskId: 't', result: { video_url: 'https://example.com/video.mp4', sizes: [1, 2] }, timestamp: '2026-02-21T10:35:00Z' },
    );
    expect(done.frame.slots).toHaveLength(2); // a status frame needs nothing from the stored snapshot
    expect(JSON.parse(fillTaskFrame(done.frame, 3, 'e', done.fields))).toEqual({
      type: 'status',
      task_id: 't',
      offset: 3,
      epoch: 'e',
      published_at: PUBLISHED_AT,
      payload: { task_id: 't', status: 'completed', result: { video_url: 'https://example.com/video.mp4', sizes: [1, 2] }, timestamp: '2026-02-21T10:35:00Z' },
    });
    const failed = snapshotAfter({ kind: 'start', taskId: 't' }, { kind: 'fail', taskId: 't', error: 'boom: disk "full"' });
    const payload = JSON.parse(fillTaskFrame(failed.frame, 4, 'e', failed.fields)).payload;
    expect(payload.status).toBe('failed');
    expect(payload.error).toBe('boom: disk "full"');
    expect(payload.result).toBeUndefined();
  });

  it('finds the top-level offset even when the message spells one out', () => {
    const { fields, frame } = snapshotAfter({ kind: 'progress', taskId: 't', progress: 1, message: ',"offset":999' });
    const text = fillTaskFrame(frame, 12, 'e', fields);
    expect(readFrameOffset(Buffer.from(text))).toBe(12);
    expect(readFrameOffset(Buffer.from('{"type":"connected"}'))).toBe(-1);
  });

  it('finds the top-level epoch even when the message spells one out', () => {
    const { fields, frame } = snapshotAfter({ kind: 'progress', taskId: 't', progress: 1, message: ',"epoch":"fake"' });
    const text = fillTaskFrame(frame, 12, 'k3x9a0bq', fields);
    expect(readFrameEpoch(Buffer.from(text))).toBe('k3x9a0bq');
    expect(readFrameEpoch(Buffer.from('{"type":"connected"}'))).toBeUndefined();
  });

  it('compares the top-level epoch in place, as readFrameEpoch would', () => {
    const { fields, frame } = snapshotAfter({ kind: 'progress', taskId: 't', progress: 1, message: ',"epoch":"fake"' });
    const bytes = Buffer.from(fillTaskFrame(frame, 12, 'k3x9a0bq', fields));
    expect(frameEpochIs(bytes, 'k3x9a0bq')).toBe(true);
    expect(frameEpochIs(bytes, 'fake')).toBe(false);
    expect(frameEpochIs(bytes, 'k3x9a0b')).toBe(false);
    expect(frameEpochIs(bytes, 'k3x9a0bqq')).toBe(false);
    expect(frameEpochIs(bytes, 'k3x9a0bz')).toBe(false);
    expect(frameEpochIs(new Uint8Array(bytes), 'k3x9a0bq')).toBe(true);
    expect(frameEpochIs(Buffer.from('{"type":"connected"}'), '')).toBe(false);
  });
});

describe('REST progress body', () => {
  it('lays out the progress payload with the frames\' fallbacks, then result, error and owner, then the position', () => {
    const { fields } = snapshotAfter(
      { kind: 'start', taskId: 't', userId: 'u1', projectId: 'p1', timestamp: '2026-02-21T10:29:00Z' },
      { kind: 'complete', taskId: 't', result: { ok: 1 }, timestamp: '2026-02-21T10:35:00Z' },
    );
    expect(progressBodyText('t', 2, 'e', fields)).toBe(
      '{"task_id":"t","progress":100,"current_step":"","total_steps":0,"completed_steps":0,"message":"","status":"completed"' +
        ',"timestamp":"2026-02-21T10:35:00Z","result":{"ok":1},"user_id":"u1","project_id":"p1","offset":2,"epoch":"e"}',
    );
    const bare = JSON.parse(progressBodyText('t', 1, 'e', snapshotAfter({ kind: 'progress', taskId: 't', progress: 5 }).fields));
    expect(bare).toMatchObject({ current_step: '', total_steps: 0, completed_steps: 0, message: '', status: 'running' });
  });
});

describe('readFramePublishedAt', () => {
  it('reads the top-level stamp of task and broadcast frames, not one spelled out inside the payload', () => {
    const task = '{"type":"progress","task_id":"t","offset":3,"epoch":"e","published_at":1764756000123,"payload":{"message":",\\"published_at\\":5"}}';
    expect(readFramePublishedAt(Buffer.from(task))).toBe(1764756000123);
    const broadcast = '{"type":"progress","task_id":"t","scope":"user","published_at":42,"payload":{"task_id":"t"}}';
    expect(readFramePublishedAt(new Uint8Array(Buffer.from(broadcast)))).toBe(42);
  });

  it('answers -1 when the stamp is absent or not a number', () => {
    expect(readFramePublishedAt(Buffer.from('{"type":"connected","payload":{}}'))).toBe(-1);
    expect(readFramePublishedAt(Buffer.from('{"type":"progress","published_at":"x"}'))).toBe(-1);
    expect(readFramePublishedAt(Buffer.from('{"type":"progress","published_at":12'))).toBe(-1);
  });
});

describe('task event validation', () => {
  it('rejects bad progress with the field named', () => {
    expectProtocolError(() => encodeTaskEvent({ kind: 'progress', taskId: 't', progress: 101 }), 'progress', /0 to 100, got 101/);
    expectProtocolError(() => encodeTaskEvent({ kind: 'progress', taskId: 't', progress: Number.NaN }), 'progress', /got NaN/);
    expectProtocolError(() => encodeTaskEvent({ kind: 'progress', taskId: 't', progress: -1 }), 'progress', /got -1/);
    expectProtocolError(
      () => encodeTaskEvent({ kind: 'progress', taskId: 't', progress: 5, completedSteps: 5, totalSteps: 4 }),
      'completed_steps',
      /must not exceed total_steps/,
    );
    expectProtocolError(() => encodeTaskEvent({ kind: 'progress', taskId: '', progress: 5 }), 'task_id', /empty/);
    expectProtocolError(
      () => encodeTaskEvent({ kind: 'progress', taskId: 't', progress: 5, message: 'x'.repeat(LIMITS.messageChars + 1) }),
      'message',
      /at most 2048/,
    );
    expectProtocolError(() => encodeTaskEvent({ kind: 'progress', taskId: 't', progress: 5, completedSteps: 1.5 }), 'completed_steps', /whole number/);
  });

  it('rejects oversized or unserialisable results and empty errors', () => {
    expectProtocolError(() => encodeTaskEvent({ kind: 'complete', taskId: 't', result: { blob: 'x'.repeat(LIMITS.resultBytes) } }), 'result', /at most 65536 bytes/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expectProtocolError(() => encodeTaskEvent({ kind: 'complete', taskId: 't', result: cyclic }), 'result', /JSON-serialisable/);
    expectProtocolError(() => encodeTaskEvent({ kind: 'fail', taskId: 't', error: '' }), 'error', /non-empty/);
    expectProtocolError(() => encodeTaskEvent({ kind: 'start', taskId: 't', userId: 'bad id' }), 'user_id', /letters/);
  });
});

describe('client messages', () => {
  it('parses the guide frames as they are', () => {
    expect(parseClientMessage(JSON.stringify({ action: 'subscribe', task_id: 'task-123' }))).toEqual({ action: 'subscribe', task_id: 'task-123' });
    expect(parseClientMessage(JSON.stringify({ action: 'unsubscribe', task_id: 'task-123' }))).toEqual({ action: 'unsubscribe', task_id: 'task-123' });
    expect(parseClientMessage('{"action":"subscribe","task_id":"t","request_id":"r1","offset":3,"epoch":"e"}')).toEqual({
      action: 'subscribe',
      task_id: 't',
      request_id: 'r1',
      offset: 3,
      epoch: 'e',
    });
  });

  it('says what is wrong with a bad frame', () => {
    expectProtocolError(() => parseClientMessage('not json'), 'frame', /JSON object/);
    expectProtocolError(() => parseClientMessage('[1]'), 'frame', /JSON object/);
    expectProtocolError(() => parseClientMessage('{"action":"explode"}'), 'action', /subscribe, unsubscribe, ping or refresh, got "explode"/);
    expectProtocolError(() => parseClientMessage('{"action":"subscribe"}'), 'task_id', /string/);
    expectProtocolError(() => parseClientMessage('{"action":"refresh"}'), 'token', /JWT string/);
    expectProtocolError(() => parseClientMessage('{"action":"refresh","token":7}'), 'token', /JWT string/);
    expect(parseClientMessage('{"action":"refresh","token":"a.b.c","request_id":"r"}')).toEqual({ action: 'refresh', token: 'a.b.c', request_id: 'r' });
    expectProtocolError(() => parseClientMessage('{"action":"subscribe","task_id":"t","offset":3}'), 'epoch', /epoch/);
    expectProtocolError(() => parseClientMessage('{"action":"subscribe","task_id":"t","offset":-1,"epoch":"e"}'), 'offset', /whole number/);
    expectProtocolError(() => parseClientMessage(`{"action":"ping","pad":"${'x'.repeat(LIMITS.clientFrameBytes)}"}`), 'frame', /at most/);
    const error = (() => {
      try {
        parseClientMessage('{"action":"explode"}');
      } catch (e) {
        return e as ProtocolError;
      }
    })();
    expect(error?.code).toBe('unknown_action');
  });
});

describe('server frames and codes', () => {
  it('encodes connected, error, ack and broadcast frames', () => {
    expect(JSON.parse(encodeConnectedFrame('c1', 'u1'))).toEqual({ type: 'connected', payload: { client_id: 'c1', user_id: 'u1' } });
    expect(JSON.parse(encodeErrorFrame('bad_request', 'task_id must not be empty', { field: 'task_id', requestId: 'r' }))).toEqual({
      type: 'error',
      request_id: 'r',
      payload: { code: 'bad_request', message: 'task_id must not be empty', field: 'task_id' },
    });
    expect(JSON.parse(encodeAckFrame('subscribe', { taskId: 't', recovered: true, offset: 4, epoch: 'e' }))).toEqual({
      type: 'ack',
      action: 'subscribe',
      task_id: 't',
      payload: { recovered: true, offset: 4, epoch: 'e' },
    });
    const broadcastText = encodeBroadcastFrame('user', 'task-456', { progress: 50, message: '处理中...' }, PUBLISHED_AT);
    expect(readFramePublishedAt(Buffer.from(broadcastText))).toBe(PUBLISHED_AT);
    const broadcast = JSON.parse(broadcastText);
    expect(Object.keys(broadcast)).toEqual(['type', 'task_id', 'scope', 'published_at', 'payload']);
    expect(broadcast).toMatchObject({ type: 'progress', task_id: 'task-456', scope: 'user', payload: { task_id: 'task-456', progress: 50, message: '处理中...' } });
    expect(Object.keys(broadcast.payload)).toEqual(GUIDE_PROGRESS_FIELDS);
  });

  it('names channels with the task in a hash tag', () => {
    expect(taskChannel('tp', 'task-1')).toBe('tp:{t:task-1}');
    expect(userChannel('tp', 'u1')).toBe('tp:u:u1');
    expect(projectChannel('tp', 'p1')).toBe('tp:p:p1');
  });

  it('tells which close codes mean reconnect', () => {
    expect(shouldReconnect(CLOSE_CODES.drain)).toBe(true);
    expect(shouldReconnect(CLOSE_CODES.slow_consumer)).toBe(true);
    expect(shouldReconnect(CLOSE_CODES.bad_identity)).toBe(false);
    expect(shouldReconnect(CLOSE_CODES.policy_violation)).toBe(false);
  });
});
