/**
 * Dead peers (issue 7, item 6): one sweep for all sockets, every half ping interval. A socket heard
 * from (any frame or pong) is alive; one quiet for an interval is pinged; one that answered nothing
 * an interval after its ping is closed with 4001 heartbeat_lost, which releases everything it held at
 * once (the close handler runs inside `end`). A peer that dies is so found within two intervals.
 * uWebSockets.js's own idle timeout closes without a code, so it is only a backstop behind this.
 * Time is counted in sweeps: hearing from a socket costs one field write, no clock read.
 */
import type { Logger } from 'pino';
import { CLOSE_CODES } from '@taskpulse/protocol';
import type { GatewayMetrics } from './metrics';

/** What the sweep needs of a connection. */
export interface Peer {
  readonly clientId: string;
  /** The sweep count when the peer was last heard from. */
  heardTick: number;
  /** The sweep count when it was pinged and has not answered yet, or -1. */
  pingTick: number;
  ping(): void;
  end(code: number, reason: string): void;
}

/** The sweep clock: connections read `tick` when they hear from their peer. */
export class DeadPeers {
  tick = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly peers: Iterable<Peer>,
    private readonly metrics: GatewayMetrics,
    private readonly logger: Logger,
  ) {}

  /** Starts sweeping every half `intervalMs`. */
  start(intervalMs: number): void {
    this.timer = setInterval(() => this.sweep(), Math.max(50, Math.round(intervalMs / 2)));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One sweep: answered pings clear, quiet peers are pinged, peers silent a whole interval after a ping are closed. */
  sweep(): void {
    const now = ++this.tick;
    const dead: Peer[] = [];
    for (const peer of this.peers) {
      if (peer.pingTick >= 0) {
        if (peer.heardTick >= peer.pingTick) peer.pingTick = -1;
        else {
          if (now - peer.pingTick >= 2) dead.push(peer);
          continue;
        }
      }
      if (now - peer.heardTick >= 2) {
        peer.pingTick = now;
        peer.ping();
      }
    }
    // Closed after the loop: each end() removes the connection from the set being iterated.
    for (const peer of dead) {
      this.metrics.heartbeatCloses.inc();
      this.logger.info({ clientId: peer.clientId }, 'closing a connection that answered no ping');
      peer.end(CLOSE_CODES.heartbeat_lost, 'heartbeat_lost');
    }
  }
}
