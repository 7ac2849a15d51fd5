/**
 * Listeners per channel, counted per (channel, listener) registration, so that the same listener may be
 * registered once per socket and the channel is left only when the last registration goes.
 */
import type { ChannelListener } from './engine';

export class ListenerRegistry {
  private readonly channels = new Map<string, Map<ChannelListener, number>>();

  /** Adds a registration; returns true when the channel had none before (time to SUBSCRIBE). */
  add(channel: string, listener: ChannelListener): boolean {
    let listeners = this.channels.get(channel);
    const first = listeners === undefined;
    if (!listeners) this.channels.set(channel, (listeners = new Map()));
    listeners.set(listener, (listeners.get(listener) ?? 0) + 1);
    return first;
  }

  /** Removes a registration; returns true when it was the channel's last (time to UNSUBSCRIBE). */
  remove(channel: string, listener: ChannelListener): boolean {
    const listeners = this.channels.get(channel);
    const count = listeners?.get(listener);
    if (!listeners || count === undefined) return false;
    if (count > 1) listeners.set(listener, count - 1);
    else listeners.delete(listener);
    if (listeners.size > 0) return false;
    this.channels.delete(channel);
    return true;
  }

  /** True while the channel has a registration. */
  has(channel: string): boolean {
    return this.channels.has(channel);
  }

  /** Channels with at least one registration. */
  channelNames(): string[] {
    return [...this.channels.keys()];
  }

  /**
   * Calls each distinct listener once with the frame; returns how many were called. A listener that
   * throws is reported to `onError` and does not stop the others.
   */
  emit(channel: string, frame: Buffer, onError: (error: unknown) => void = reportListenerError): number {
    const listeners = this.channels.get(channel);
    if (!listeners) return 0;
    for (const listener of [...listeners.keys()]) {
      try {
        listener(channel, frame);
      } catch (error) {
        onError(error);
      }
    }
    return listeners.size;
  }

  clear(): void {
    this.channels.clear();
  }
}

function reportListenerError(error: unknown): void {
  process.emitWarning(`channel listener failed: ${error instanceof Error ? error.stack : String(error)}`, 'ListenerError');
}
