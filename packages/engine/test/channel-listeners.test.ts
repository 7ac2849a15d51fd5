import { describe, expect, it } from 'vitest';
import type { ChannelListener } from '../src/engine';
import { ChannelListeners } from '../src/channel-listeners';

const frame = Buffer.from('{}');

describe('listener registry', () => {
  it('calls each distinct listener once and leaves the channel with its last registration', () => {
    const registry = new ChannelListeners();
    const calls: string[] = [];
    const a: ChannelListener = () => calls.push('a');
    const b: ChannelListener = () => calls.push('b');
    expect(registry.add('c', a)).toBe(true);
    expect(registry.add('c', a)).toBe(false);
    expect(registry.add('c', b)).toBe(false);
    expect(registry.emit('c', frame)).toBe(2);
    expect(calls).toEqual(['a', 'b']);
    expect(registry.remove('c', a)).toBe(false);
    expect(registry.remove('c', b)).toBe(false);
    expect(registry.emit('c', frame)).toBe(1);
    expect(registry.remove('c', b)).toBe(false); // b holds no registration any more
    expect(registry.remove('c', a)).toBe(true);
    expect(registry.has('c')).toBe(false);
    expect(registry.emit('c', frame)).toBe(0);
  });

  it('finishes an emit unchanged when a listener leaves or joins during it, and survives a throwing listener', () => {
    const registry = new ChannelListeners();
    const calls: string[] = [];
    const errors: unknown[] = [];
    const late: ChannelListener = () => calls.push('late');
    const second: ChannelListener = () => calls.push('second');
    const first: ChannelListener = () => {
      calls.push('first');
      registry.remove('c', first);
      registry.add('c', late);
      throw new Error('boom');
    };
    registry.add('c', first);
    registry.add('c', second);
    registry.emit('c', frame, (error) => errors.push(error));
    expect(calls).toEqual(['first', 'second']);
    expect(errors).toHaveLength(1);
    calls.length = 0;
    registry.emit('c', frame);
    expect(calls).toEqual(['second', 'late']);
  });
});
