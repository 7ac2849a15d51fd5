/**
 * Property-based fuzz of parseClientMessage (the gateway's client frame parser), 12,000 generated frames:
 * it returns a well-formed message or throws a ProtocolError whose code is in the registry; nothing else.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, idProblem, parseClientMessage, ProtocolError, type ClientMessage } from '../src/index';

const RUNS = 4000;

/** Holds when `text` parses to a valid message or is refused with a registered ProtocolError. */
function parsesOrRefuses(text: string): void {
  let message: ClientMessage;
  try {
    message = parseClientMessage(text);
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw new Error(`threw ${String(error)} for ${JSON.stringify(text).slice(0, 200)}`);
    expect(Object.keys(ERROR_CODES)).toContain(error.code);
    expect(error.message.length).toBeGreaterThan(0);
    return;
  }
  expect(['subscribe', 'unsubscribe', 'ping', 'refresh']).toContain(message.action);
  if (message.action === 'subscribe' || message.action === 'unsubscribe') expect(idProblem(message.task_id)).toBeFalsy();
  if (message.action === 'refresh') expect(typeof message.token).toBe('string');
  if (message.request_id !== undefined) expect(message.request_id.length).toBeLessThanOrEqual(64);
  if (message.action === 'subscribe' && message.offset !== undefined) {
    expect(Number.isSafeInteger(message.offset) && message.offset >= 0).toBe(true);
    expect(typeof message.epoch).toBe('string');
  }
}

const anyValue = fc.oneof(
  fc.jsonValue(),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.constantFrom(undefined, null, -1, 0, 1.5, Number.MAX_SAFE_INTEGER + 2, 'task-1', '', 'a'.repeat(129), '🙂', '__proto__'),
);

/** Frames shaped like the protocol's, with each field drawn from valid and hostile values. */
const plausibleFrame = fc
  .record(
    {
      action: fc.oneof(fc.constantFrom('subscribe', 'unsubscribe', 'ping', 'refresh', 'SUBSCRIBE', ''), anyValue),
      task_id: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_.:@-]{1,128}$/), anyValue),
      request_id: fc.oneof(fc.string({ maxLength: 70 }), anyValue),
      offset: fc.oneof(fc.nat(), fc.integer(), fc.double(), anyValue),
      epoch: fc.oneof(fc.string({ maxLength: 70 }), anyValue),
      token: anyValue,
    },
    { requiredKeys: [] },
  )
  .map((frame) => JSON.stringify(frame));

describe('parseClientMessage under fuzz', () => {
  it(`survives ${RUNS} arbitrary strings`, () => {
    fc.assert(fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 5000 }), fc.string({ maxLength: 300 })), (text) => parsesOrRefuses(text)), {
      numRuns: RUNS,
    });
  });

  it(`survives ${RUNS} arbitrary JSON texts`, () => {
    fc.assert(fc.property(fc.json({ maxDepth: 4 }), (text) => parsesOrRefuses(text)), { numRuns: RUNS });
  });

  it(`survives ${RUNS} protocol-shaped frames with hostile fields`, () => {
    fc.assert(fc.property(plausibleFrame, (text) => parsesOrRefuses(text)), { numRuns: RUNS });
  });

  it('accepts the frames the guide sends', () => {
    expect(parseClientMessage('{"action":"subscribe","task_id":"task-123"}')).toEqual({ action: 'subscribe', task_id: 'task-123' });
    expect(() => parseClientMessage('{"action":"explode"}')).toThrow(ProtocolError);
  });
});
