/**
 * The process's one subscriber connection. Listeners are reference-counted in ChannelListeners; the
 * registry is the truth and each channel's SUBSCRIBE/UNSUBSCRIBE runs in a per-channel queue that brings
 * Redis in line with it, so racing subscribe/unsubscribe calls on one channel always settle on "subscribed
 * exactly while a listener is registered". Frames arrive as Buffers (`messageBuffer`) and are handed on
 * untouched.
 */
import { ChannelQueues } from './channel-queues';
import type { Redis } from 'ioredis';
import type { ChannelListener, LinkEvent } from './engine';
import type { EngineLogger } from './engine-logger';
import { EngineUnavailableError } from './errors';
import { ChannelListeners } from './channel-listeners';

/** Subscriptions of one engine over its one subscriber connection. */
export class RedisChannelLink {
  private readonly registry = new ChannelListeners();
  /** Channels Redis confirmed on the current connection. */
  private readonly confirmed = new Set<string>();
  /** Each channel's reconciliations, one after another. */
  private readonly queues = new ChannelQueues();
  /** True once every registered channel is subscribed on the current connection. */
  private live = false;
  /** Bumped on every close and ready, so a resubscription that lost a race does not claim liveness. */
  private generation = 0;
  private closed = false;
  /** Set when a live link closed, cleared once every channel is subscribed again: one `lost`, one `restored`. */
  private linkLost = false;
  private readonly linkListeners = new Set<(event: LinkEvent) => void>();

  /** `connection` must be created with `autoResubscribe: false`: this class resubscribes from its registry. */
  constructor(
    private readonly connection: Redis,
    private readonly logger: EngineLogger,
  ) {
    connection.on('messageBuffer', (channel: Buffer, frame: Buffer) => {
      this.registry.emit(channel.toString(), frame, this.onListenerError);
    });
    connection.on('close', () => {
      this.generation += 1;
      if (this.live && !this.closed) {
        this.linkLost = true;
        this.emitLink('lost');
      }
      this.live = false;
      this.confirmed.clear();
    });
    connection.on('ready', () => void this.resubscribe());
  }

  /** True while the connection is ready and every registered channel is subscribed. */
  isLive(): boolean {
    return this.live && !this.closed && this.connection.status === 'ready';
  }

  /** Registers a listener; resolves once Redis confirmed the channel's SUBSCRIBE. */
  async subscribe(channel: string, listener: ChannelListener): Promise<void> {
    if (this.closed) throw new EngineUnavailableError(`cannot subscribe to ${channel}: the engine is closed`);
    this.registry.add(channel, listener);
    try {
      await this.reconcile(channel);
    } catch (error) {
      // the caller sees a failure, so it will not unsubscribe: take the registration back
      this.registry.remove(channel, listener);
      throw new EngineUnavailableError(`redis failed to subscribe to ${channel}: ${describe(error)}`, error);
    }
  }

  /** Removes one registration; the channel's last one UNSUBSCRIBEs (resolves once Redis confirmed). */
  async unsubscribe(channel: string, listener: ChannelListener): Promise<void> {
    if (!this.registry.remove(channel, listener) || this.closed) return;
    try {
      await this.reconcile(channel);
    } catch (error) {
      throw new EngineUnavailableError(`redis failed to unsubscribe from ${channel}: ${describe(error)}`, error);
    }
  }

  /** Adds a link listener; returns its removal. */
  onLinkChange(listener: (event: LinkEvent) => void): () => void {
    this.linkListeners.add(listener);
    return () => this.linkListeners.delete(listener);
  }

  private emitLink(event: LinkEvent): void {
    this.logger.warn({ event, channels: this.registry.channelNames().length }, 'redis subscriber link changed');
    for (const listener of [...this.linkListeners]) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error({ err: error, event }, 'link listener threw');
      }
    }
  }

  /** Channels with at least one registration. */
  channels(): string[] {
    return this.registry.channelNames();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.live = false;
    this.registry.clear();
    this.linkListeners.clear();
  }

  /** Queues one reconciliation of `channel` behind the ones already queued and returns it. */
  private reconcile(channel: string): Promise<void> {
    return this.queues.enqueue(channel, () => this.apply(channel));
  }

  /** Brings Redis in line with the registry for one channel, reading the registry only now. */
  private async apply(channel: string): Promise<void> {
    if (this.closed) return;
    const wanted = this.registry.has(channel);
    if (wanted && !this.confirmed.has(channel)) {
      await this.connection.subscribe(channel);
      this.confirmed.add(channel);
    } else if (!wanted && this.confirmed.has(channel)) {
      await this.connection.unsubscribe(channel);
      this.confirmed.delete(channel);
    }
  }

  /** After a (re)connect the server holds no subscriptions: subscribe every registered channel again. */
  private async resubscribe(): Promise<void> {
    const generation = ++this.generation;
    const channels = this.registry.channelNames();
    const results = await Promise.allSettled(channels.map((channel) => this.reconcile(channel)));
    if (generation !== this.generation || this.closed) return;
    const failed = results.filter((result) => result.status === 'rejected');
    if (failed.length === 0) {
      this.live = true;
      if (this.linkLost) {
        this.linkLost = false;
        this.emitLink('restored');
      }
      return;
    }
    this.logger.error(
      { err: (failed[0] as PromiseRejectedResult).reason, channels: channels.length, failed: failed.length },
      'redis subscriber could not resubscribe; reconnecting to try again',
    );
    this.connection.disconnect(true);
  }

  private readonly onListenerError = (error: unknown): void => {
    this.logger.error({ err: error }, 'channel listener threw');
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
