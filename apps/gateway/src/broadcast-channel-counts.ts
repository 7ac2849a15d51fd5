/**
 * The user and project broadcast channels of one gateway, counted per channel here rather than per
 * socket in the engine, so that an idle connection holds no promise, closure or channel string of its
 * own: the channel names are derived again from its ids when it closes. A failed engine registration is
 * logged, counted and retried by the channel's next connection.
 */
import type { Logger } from 'pino';
import type { ChannelListener, PubSub } from '@taskpulse/engine';
import type { GatewayMetrics } from './metrics';
import type { PendingWork } from './pending-work';

interface HeldChannel {
  connections: number;
  state: 'registering' | 'registered' | 'failed';
  /** Only while registering: resolves true once the registration exists, false when it failed. */
  registration: Promise<boolean> | undefined;
}

/** Reference counts of broadcast channels over this gateway's connections. */
export class BroadcastChannelCounts {
  private readonly held = new Map<string, HeldChannel>();

  constructor(
    private readonly engine: Pick<PubSub, 'subscribe' | 'unsubscribe'>,
    private readonly metrics: GatewayMetrics,
    private readonly logger: Logger,
    private readonly pending: PendingWork,
  ) {}

  /** A connection joined `channel`: the first one registers `listener` with the engine. */
  join(channel: string, listener: ChannelListener): void {
    let held = this.held.get(channel);
    if (!held) {
      held = { connections: 0, state: 'failed', registration: undefined };
      this.held.set(channel, held);
    }
    if (held.state === 'failed') this.register(channel, listener, held);
    held.connections += 1;
  }

  /** A connection left `channel`: the last one takes the engine registration back. */
  leave(channel: string, listener: ChannelListener): void {
    const held = this.held.get(channel);
    if (!held) return;
    held.connections -= 1;
    if (held.connections > 0) return;
    this.held.delete(channel);
    if (held.state === 'failed') return;
    const registered = held.registration ?? Promise.resolve(true);
    const work = registered
      .then((ok) => (ok ? this.engine.unsubscribe(channel, listener) : undefined))
      .catch((error: unknown) => this.failed('unsubscribe', error, channel));
    void this.pending.track(work);
  }

  /** Channels held right now (tests and metrics). */
  get size(): number {
    return this.held.size;
  }

  private register(channel: string, listener: ChannelListener, held: HeldChannel): void {
    held.state = 'registering';
    const registration = this.engine.subscribe(channel, listener).then(
      () => {
        held.state = 'registered';
        return true;
      },
      (error: unknown) => {
        held.state = 'failed';
        this.failed('subscribe', error, channel);
        return false;
      },
    );
    // Kept only while pending, so a settled channel holds no promise.
    held.registration = registration;
    void this.pending.track(registration.finally(() => {
      if (held.registration === registration) held.registration = undefined;
    }));
  }

  private failed(operation: 'subscribe' | 'unsubscribe', error: unknown, channel: string): void {
    this.metrics.engineFailures.inc({ operation });
    this.logger.warn({ err: error, channel }, `engine ${operation} for a broadcast channel failed`);
  }
}
