/**
 * Dead peers (issue 7, item 6): a socket heard from (any frame or pong) is alive; one quiet for an
 * interval is pinged; one that answered nothing an interval after its ping is closed with 4001
 * heartbeat_lost, which releases everything it held at once (the close handler runs inside `end`). A
 * peer that dies is so found within about two intervals.
 * Each peer is checked every half interval, but not all at once: peers are spread over slices of that
 * half interval by a slot given at connect. Pinging every quiet socket in one sweep sent thousands of pings
 * (and drew thousands of pongs) in one turn, a latency spike every interval for every client on the node
 * (the bench's project broadcasts saw 200 ms).
 * uWebSockets.js's own idle timeout closes without a code, so it is only a backstop behind this.
 * Time is counted in ticks (one per slice): hearing from a socket costs one field write, no clock read.
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
  /** Which slice of the half interval checks this peer (DeadPeers.nextSlot, given at connect). */
  readonly sweepSlot: number;
  ping(): void;
  end(code: number, reason: string): void;
}

/** Shortest time between two ticks; short ping intervals (tests) get fewer slices. */
const MIN_TICK_MS = 50;
/** Slices of a half interval at most: at 25 s, a tick every 1.25 s checks a tenth of the peers. */
const MAX_SLICES = 10;

/** The sweep clock: connections read `tick` when they hear from their peer. */
export class DeadPeers {
  tick = 0;
  private timer: NodeJS.Timeout | undefined;
  private slices = 1;
  private slotsGiven = 0;

  constructor(
    private readonly peers: Iterable<Peer>,
    private readonly metrics: GatewayMetrics,
    private readonly logger: Logger,
  ) {}

  /** Starts checking every peer once per half `intervalMs`, one slice of them per tick. */
  start(intervalMs: number): void {
    const halfInterval = intervalMs / 2;
    this.slices = Math.max(1, Math.min(MAX_SLICES, Math.floor(halfInterval / MIN_TICK_MS)));
    this.timer = setInterval(() => this.sweep(), Math.max(MIN_TICK_MS, Math.round(halfInterval / this.slices)));
    this.timer.unref();
  }

  /** The slot of a new peer: round robin, so each slice holds an equal share of the connections. */
  nextSlot(): number {
    this.slotsGiven = (this.slotsGiven + 1) % MAX_SLICES;
    return this.slotsGiven;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One tick: in this tick's slice, answered pings clear, quiet peers are pinged, peers silent a whole interval after a ping are closed. */
  sweep(): void {
    const now = ++this.tick;
    const slice = now % this.slices;
    const interval = 2 * this.slices; // ticks
    const dead: Peer[] = [];
    for (const peer of this.peers) {
      if (peer.sweepSlot % this.slices !== slice) continue;
      if (peer.pingTick >= 0) {
        if (peer.heardTick >= peer.pingTick) peer.pingTick = -1;
        else {
          if (now - peer.pingTick >= interval) dead.push(peer);
          continue;
        }
      }
      if (now - peer.heardTick >= interval) {
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
