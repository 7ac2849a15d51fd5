/** describeError: the failure text keeps the whole cause chain, and no thrown value breaks it. */
import { describe, expect, it } from 'vitest';
import { LIMITS } from '@taskpulse/protocol';
import { describeError } from '../src/index';

describe('describeError', () => {
  it('joins the cause chain with ": "', () => {
    const error = new Error('video processing failed', {
      cause: new Error('ffmpeg exited 1', { cause: new Error('disk full') }),
    });
    expect(describeError(error)).toBe('video processing failed: ffmpeg exited 1: disk full');
  });

  it('does not repeat a cause the wrapper already quotes', () => {
    const root = new Error('disk full');
    const mid = new Error(`ffmpeg exited 1: ${root.message}`, { cause: root });
    const top = new Error(`视频处理失败: ${mid.message}`, { cause: mid });
    expect(describeError(top)).toBe('视频处理失败: ffmpeg exited 1: disk full');
    const partly = new Error('upload failed: ffmpeg exited 1', { cause: mid });
    expect(describeError(partly)).toBe('upload failed: ffmpeg exited 1: disk full');
  });

  it('lists the members of an AggregateError, each with its own causes', () => {
    const error = new AggregateError(
      [new Error('cdn-a: timeout'), new Error('cdn-b refused', { cause: new Error('HTTP 503') })],
      'all uploads failed',
      { cause: new Error('network down') },
    );
    expect(describeError(error)).toBe('all uploads failed: [cdn-a: timeout; cdn-b refused: HTTP 503]: network down');
  });

  it('cuts cause cycles', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(describeError(a)).toBe('a: b');
    const self = new AggregateError([], 'self');
    (self as { errors: unknown[] }).errors.push(self);
    expect(describeError(self)).toBe('self');
  });

  it('takes causes that are not errors', () => {
    expect(describeError(new Error('read failed', { cause: 'EIO' }))).toBe('read failed: EIO');
    expect(describeError(new Error('bad reply', { cause: { status: 502 } }))).toBe('bad reply: {"status":502}');
    expect(describeError(new Error('exit', { cause: 137 }))).toBe('exit: 137');
  });

  it('never returns an empty text', () => {
    expect(describeError(undefined)).toBe('unknown error');
    expect(describeError('')).toBe('unknown error');
    expect(describeError(new Error(''))).toBe('Error');
    expect(describeError(new TypeError(''))).toBe('TypeError');
    expect(describeError('plain')).toBe('plain');
    expect(describeError({ message: 'error-like' })).toBe('error-like');
  });

  it('caps the text and the depth', () => {
    const long = new Error('x'.repeat(LIMITS.errorChars + 100));
    const text = describeError(long);
    expect(text.length).toBe(LIMITS.errorChars);
    expect(text.endsWith('…')).toBe(true);
    let deep = new Error('e0');
    for (let i = 1; i < 40; i++) deep = new Error(`e${i}`, { cause: deep });
    const chain = describeError(deep).split(': ');
    expect(chain.length).toBe(17);
    expect(chain.at(-1)).toBe('…');
  });
});
