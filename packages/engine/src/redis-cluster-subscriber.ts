/**
 * Channels on a Redis Cluster over sharded pub/sub: one subscriber connection per master that owns a
 * registered channel's slot, SSUBSCRIBE there (Redis 7), frames as Buffers (`smessageBuffer`), untouched.
 *
 * ioredis 6 can run sharded subscribers itself (`shardedSubscribers: true`), but it resubscribes after a
 * topology change without confirming it and without telling anyone (its errors go to a debug log), so a
 * gateway could neither know when a channel is live nor repair the frames it missed. Here the registry is
 * the truth and every channel's SSUBSCRIBE is confirmed on the master that owns its slot now:
 * - a subscriber connection closes (its master died) → `lost`; the slot map is refreshed until a replica
 *   took over, every channel of that shard is subscribed on its new master → `restored`;
 * - a slot moves (resharding: Redis sends SUNSUBSCRIBE, or the periodic slot refresh shows a new owner) →
 *   `lost`, the slot's channels move to the new owner → `restored`.
 * Frames published in between are missed: whoever relays them repairs from history on `restored`
 * (apps/gateway task-relay.ts), as after a single Redis's subscriber reconnect.
 */
import { ChannelQueues } from './channel-queues';
import calculateSlot from 'cluster-key-slot';
import { Redis, type Cluster, type RedisOptions } from 'ioredis';
import type { ChannelListener, LinkEvent } from './engine';
import type { EngineLogger } from './engine-logger';
import { EngineUnavailableError } from './errors';
import { ChannelListeners } from './channel-listeners';

/** Pause between attempts to bring every channel back after a loss, in ms. */
const RESYNC_RETRY_MS = 200;

/** One subscriber connection to one master, and the channels it confirmed. */
interface ShardLink {
  node: string;
  connection: Redis;
  confirmed: Set<string>;
}

/** Subscriptions of one cluster engine, one connection per master that serves them. */
export class RedisClusterSubscriber {
  private readonly registry = new ChannelListeners();
  private readonly links = new Map<string, ShardLink>();
  /** The link on which each channel's SSUBSCRIBE was confirmed. */
  private readonly confirmedOn = new Map<string, ShardLink>();
  /** Each channel's reconciliations, one after another. */
  private readonly queues = new ChannelQueues();
  private readonly linkListeners = new Set<(event: LinkEvent) => void>();
  /** Set when a live channel lost its subscription, cleared once every channel is back: one `lost`, one `restored`. */
  private linkLost = false;
  private resyncing = false;
  private closed = false;

  /** `options` are the base options of every subscriber connection (TLS, credentials, timeouts). */
  constructor(
    private readonly cluster: Cluster,
    private readonly options: RedisOptions,
    private readonly connectionName: string,
    private readonly logger: EngineLogger,
  ) {
    // every slot refresh (periodic, or after a MOVED) may show that a slot now has another owner
    cluster.on('refresh', () => this.checkOwners());
  }

  /** True while every registered channel is confirmed on a ready connection to its slot's owner. */
  isLive(): boolean {
    if (this.closed || this.linkLost || this.cluster.status !== 'ready') return false;
    for (const channel of this.registry.channelNames()) {
      const link = this.confirmedOn.get(channel);
      if (!link || link.connection.status !== 'ready') return false;
    }
    return true;
  }

  /** Registers a listener; resolves once the owner of the channel's slot confirmed its SSUBSCRIBE. */
  async subscribe(channel: string, listener: ChannelListener): Promise<void> {
    if (this.closed) throw new EngineUnavailableError(`cannot subscribe to ${channel}: the engine is closed`);
    this.registry.add(channel, listener);
    try {
      await this.reconcile(channel);
    } catch (error) {
      this.registry.remove(channel, listener);
      throw new EngineUnavailableError(`redis cluster failed to subscribe to ${channel}: ${describe(error)}`, error);
    }
  }

  /** Removes one registration; the channel's last one SUNSUBSCRIBEs. */
  async unsubscribe(channel: string, listener: ChannelListener): Promise<void> {
    if (!this.registry.remove(channel, listener) || this.closed) return;
    try {
      await this.reconcile(channel);
    } catch (error) {
      throw new EngineUnavailableError(`redis cluster failed to unsubscribe from ${channel}: ${describe(error)}`, error);
    }
  }

  /** Adds a link listener; returns its removal. */
  onLinkChange(listener: (event: LinkEvent) => void): () => void {
    this.linkListeners.add(listener);
    return () => this.linkListeners.delete(listener);
  }

  /** How many subscriber connections are open (one per master that serves a channel). */
  linkCount(): number {
    return this.links.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.registry.clear();
    this.linkListeners.clear();
    const links = [...this.links.values()];
    this.links.clear();
    await Promise.all(links.map((link) => quietly(link.connection)));
  }

  private reconcile(channel: string): Promise<void> {
    return this.queues.enqueue(channel, () => this.apply(channel));
  }

  /** Brings the cluster in line with the registry for one channel: subscribed exactly on its slot's owner. */
  private async apply(channel: string): Promise<void> {
    if (this.closed) return;
    const wanted = this.registry.has(channel);
    const current = this.confirmedOn.get(channel);
    const target = wanted ? this.linkFor(await this.ownerOf(channel)) : undefined;
    if (current && current !== target) {
      this.forget(channel, current);
      // the old owner may be dead or may have dropped the channel itself already: best effort
      if (current.connection.status === 'ready') await current.connection.sunsubscribe(channel).catch(() => undefined);
    }
    if (target && current !== target) {
      await target.connection.ssubscribe(channel);
      target.confirmed.add(channel);
      this.confirmedOn.set(channel, target);
    }
  }

  private forget(channel: string, link: ShardLink): void {
    link.confirmed.delete(channel);
    if (this.confirmedOn.get(channel) === link) this.confirmedOn.delete(channel);
  }

  /** The `host:port` of the master serving the channel's slot, once the cluster knows its slots. */
  private async ownerOf(channel: string): Promise<string> {
    if (this.cluster.status !== 'ready') {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`cluster not ready (${this.cluster.status})`)), 5000);
        this.cluster.once('ready', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const owner = this.cluster.slots[calculateSlot(channel)]?.[0];
    if (!owner) throw new Error(`no master known for the slot of ${channel}`);
    return owner;
  }

  private linkFor(node: string): ShardLink {
    const existing = this.links.get(node);
    if (existing && existing.connection.status !== 'end') return existing;
    const [host, port] = splitNode(node);
    const connection = new Redis({
      ...this.options,
      host,
      port,
      connectionName: `${this.connectionName}:ssub`,
      autoResubscribe: false,
      // a dead master is not retried forever: its channels move to the replica that takes over
      retryStrategy: (times) => (times > 20 ? null : Math.min(times * 100, 1000)),
    });
    const link: ShardLink = { node, connection, confirmed: new Set() };
    this.links.set(node, link);
    connection.on('smessageBuffer', (channel: Buffer, frame: Buffer) => {
      this.registry.emit(channel.toString(), frame, this.onListenerError);
    });
    connection.on('error', (error: Error) => this.logger.warn({ err: error, node }, 'redis cluster subscriber connection error'));
    connection.on('close', () => this.dropped(link, 'connection closed'));
    // Redis 7 unsubscribes a slot's channels when the slot leaves this master (ioredis reports it as `moved`)
    connection.on('moved', () => this.dropped(link, 'slot moved'));
    return link;
  }

  /** A link lost (some of) its channels: they are all subscribed again, on their owners now. */
  private dropped(link: ShardLink, reason: string): void {
    if (this.closed) return;
    const channels = [...link.confirmed];
    for (const channel of channels) this.forget(channel, link);
    if (link.connection.status === 'end' && this.links.get(link.node) === link) this.links.delete(link.node);
    if (channels.length === 0) return;
    this.logger.warn({ node: link.node, reason, channels: channels.length }, 'redis cluster subscriber lost channels');
    this.markLost();
    this.cluster.refreshSlotsCache();
  }

  /** After a slot refresh: any confirmed channel whose slot has another owner now is moved. */
  private checkOwners(): void {
    if (this.closed) return;
    let moved = 0;
    for (const [channel, link] of this.confirmedOn) {
      if (this.cluster.slots[calculateSlot(channel)]?.[0] !== link.node) {
        this.forget(channel, link);
        moved += 1;
      }
    }
    if (moved > 0) {
      this.logger.warn({ channels: moved }, 'redis cluster slots moved: moving their channels');
      this.markLost();
    }
  }

  private markLost(): void {
    if (!this.linkLost) {
      this.linkLost = true;
      this.emitLink('lost');
    }
    void this.resync();
  }

  /** Subscribes every registered channel on its owner, retrying until all are back; then `restored`. */
  private async resync(): Promise<void> {
    if (this.resyncing) return;
    this.resyncing = true;
    try {
      while (!this.closed) {
        const channels = this.registry.channelNames();
        const results = await Promise.allSettled(channels.map((channel) => this.reconcile(channel)));
        const failed = results.filter((result) => result.status === 'rejected');
        const missing = channels.filter((channel) => this.registry.has(channel) && !this.confirmedOn.has(channel));
        if (failed.length === 0 && missing.length === 0) break;
        this.logger.warn(
          { err: (failed[0] as PromiseRejectedResult | undefined)?.reason, failed: failed.length, channels: channels.length },
          'redis cluster subscriber could not resubscribe yet; retrying',
        );
        await new Promise((resolve) => setTimeout(resolve, RESYNC_RETRY_MS));
        this.cluster.refreshSlotsCache();
      }
    } finally {
      this.resyncing = false;
    }
    if (this.closed) return;
    this.dropIdleLinks();
    if (this.linkLost) {
      this.linkLost = false;
      this.emitLink('restored');
    }
  }

  /** Closes connections to nodes that serve no channel any more (a failed master, a drained one). */
  private dropIdleLinks(): void {
    for (const [node, link] of this.links) {
      if (link.confirmed.size > 0 || link.connection.status === 'ready') continue;
      this.links.delete(node);
      link.connection.disconnect();
    }
  }

  private emitLink(event: LinkEvent): void {
    this.logger.warn({ event, channels: this.registry.channelNames().length }, 'redis cluster subscriber link changed');
    for (const listener of [...this.linkListeners]) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error({ err: error, event }, 'link listener threw');
      }
    }
  }

  private readonly onListenerError = (error: unknown): void => {
    this.logger.error({ err: error }, 'channel listener threw');
  };
}

function splitNode(node: string): [string, number] {
  const at = node.lastIndexOf(':');
  return [node.slice(0, at), Number(node.slice(at + 1))];
}

async function quietly(connection: Redis): Promise<void> {
  if (connection.status !== 'ready') {
    connection.disconnect();
    return;
  }
  await connection.quit().catch(() => connection.disconnect());
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
