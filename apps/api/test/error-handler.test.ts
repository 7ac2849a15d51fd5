/** toErrorReply: every typed error maps to its status and the one error body; unexpected errors do not leak. */
import { describe, expect, it } from 'vitest';
import { EngineArgumentError, EngineUnavailableError, TaskFinishedError } from '@taskpulse/engine';
import { ProtocolError } from '@taskpulse/protocol';
import { ReporterInputError } from '@taskpulse/reporter';
import { ApiError, toErrorReply } from '../src/error-handler';

describe('toErrorReply', () => {
  it.each([
    [new ApiError(404, 'not_found', 'task x not found'), 404, { code: 'not_found', message: 'task x not found' }],
    [new ReporterInputError('updateProgress', 'progress', 'progress must be a number from 0 to 100, got 150', 't'), 400, { code: 'bad_request', message: 'progress must be a number from 0 to 100, got 150', field: 'progress' }],
    [new ProtocolError('bad_request', 'task_id', 'task_id must not be empty'), 400, { code: 'bad_request', message: 'task_id must not be empty', field: 'task_id' }],
    [new TaskFinishedError('t', 'completed'), 409, { code: 'task_finished', message: expect.stringContaining('completed') }],
    [new EngineUnavailableError('redis is down'), 503, { code: 'unavailable', message: 'redis is down' }],
    [new EngineArgumentError('limit must be a whole number'), 400, { code: 'bad_request', message: 'limit must be a whole number' }],
  ])('%s → %i', (error, status, body) => {
    expect(toErrorReply(error)).toEqual({ status, body: { error: body } });
  });

  it('answers 500 internal without the error text for anything unexpected', () => {
    const reply = toErrorReply(new TypeError('cannot read secret of undefined'));
    expect(reply).toEqual({ status: 500, body: { error: { code: 'internal', message: 'an unexpected server error' } } });
  });
});
