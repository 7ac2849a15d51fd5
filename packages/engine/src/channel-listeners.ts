/**
 * Listeners per channel, counted per (channel, listener) registration, so that the same listener may be
 * registered once per socket and the channel is left only when the last registration goes.
 *
 * A gateway holds one entry per channel it serves — tens of thousands of user channels on a busy node —
 * and almost every channel has one or two distinct listeners, so an entry is two short arrays rather
 * than a Map. The listener array is replaced, never changed in place, so `emit` iterates it without a
 * copy even when a listener registers or leaves during the emit.
 */
import type { ChannelListener } from './engine';

interface ChannelEntry {
  /** Distinct listeners, in registration order; replaced on every change. */
  listeners: readonly ChannelListener[];
  /** Registrations of each listener, by the same index. */
  counts: number[];
}

/** Who listens to each channel in this process: the one count the engine subscribes and unsubscribes by. */
export class ChannelListeners {
  private readonly channels = new Map<string, ChannelEntry>();

  /** Adds a registration; returns true when the channel had none before (time to SUBSCRIBE). */
  add(channel: string, listener: ChannelListener): boolean {
    const entry = this.channels.get(channel);
    if (!entry) {
      this.channels.set(channel, { listeners: [listener], counts: [1] });
      return true;
    }
    const at = entry.listeners.indexOf(listener);
    if (at >= 0) entry.counts[at]! += 1;
    else {
      entry.listeners = [...entry.listeners, listener];
      entry.counts.push(1);
    }
    return false;
  }

  /** Removes a registration; returns true when it was the channel's last (time to UNSUBSCRIBE). */
  remove(channel: string, listener: ChannelListener): boolean {
    const entry = this.channels.get(channel);
    const at = entry ? entry.listeners.indexOf(listener) : -1;
    if (!entry || at < 0) return false;
    if (entry.counts[at]! > 1) {
      entry.counts[at]! -= 1;
      return false;
    }
    if (entry.listeners.length > 1) {
      entry.listeners = entry.listeners.filter((_, i) => i !== at);
      entry.counts.splice(at, 1);
      return false;
    }
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
   * throws is reported to `onError` and does not stop the others. Allocates nothing: this runs per frame.
   */
  emit(channel: string, frame: Buffer, onError: (error: unknown) => void = reportListenerError): number {
    const entry = this.channels.get(channel);
    if (!entry) return 0;
    const { listeners } = entry;
    for (let i = 0; i < listeners.length; i++) {
      try {
        listeners[i]!(channel, frame);
      } catch (error) {
        onError(error);
      }
    }
    return listeners.length;
  }

  clear(): void {
    this.channels.clear();
  }
}

function reportListenerError(error: unknown): void {
  process.emitWarning(`channel listener failed: ${error instanceof Error ? error.stack : String(error)}`, 'ListenerError');
}
