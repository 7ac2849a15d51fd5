/**
 * Slow consumers conflate instead of piling up (issue 7, item 4). A socket whose unsent bytes pass the
 * soft limit leaves its uWebSockets.js topics and gets its frames through a per-socket path: per task
 * only the newest progress frame waits (it replaces an older waiting one), while status frames,
 * broadcasts and the gateway's own frames (acks, errors, state) always queue, in order. The waiting
 * frames are written whenever the socket's buffer is below the soft limit (on `drain`, on each new frame
 * and on the periodic check); once nothing waits and the buffer is down to half the soft limit, the
 * socket rejoins its topics. Leaving and rejoining happen inside one synchronous step, and the fan-out
 * publishes synchronously, so every frame goes either by topic or by this path: no gap, no duplicate,
 * and per task the order is kept. A conflated client sees increasing offsets with gaps on progress
 * frames only, and the progress frame after each gap carries `"conflated":true`. The hard limit (backpressure.ts, 4000) counts the waiting bytes too.
 */
import type { ChannelKind, GatewayMetrics } from './metrics';

/** What a slow path needs of the uWebSockets.js socket. */
export interface RawSocket {
  send(message: string | Buffer, isBinary?: boolean): number;
  getBufferedAmount(): number;
  subscribe(topic: string): boolean;
  unsubscribe(topic: string): boolean;
  getTopics(): string[];
  cork(fn: () => void): unknown;
}

/** A frame waiting on a slow socket. */
interface Waiting {
  frame: string | Buffer;
  bytes: number;
  /** Set on a progress frame that may still be replaced. */
  channel?: string;
  /** True once it replaced an older progress frame: it goes out marked `"conflated":true`. */
  replaced?: boolean;
}

// Task frames are laid out by protocol alone (task-frame.ts), `type` first: `{"type":"p…`.
const TYPE_BYTE_AT = 9;
const P = 0x70;
const TYPE_PROGRESS = Buffer.from('{"type":"progress",');
const CONFLATED_MARK = Buffer.from('"conflated":true,');

/** The frame with `"conflated":true` after its type, so the client knows the offset gap before it is conflation. */
export function markConflated(frame: Buffer): Buffer {
  const head = TYPE_PROGRESS.length;
  return Buffer.concat([frame.subarray(0, head), CONFLATED_MARK, frame.subarray(head)]);
}

/** True for a task progress frame (the only kind that may be conflated). */
export function isProgressFrame(frame: Buffer): boolean {
  return frame[TYPE_BYTE_AT] === P;
}

/**
 * The gateway's slow sockets by channel, for the fan-out. `size` is 0 in the normal case, and the
 * fan-out checks it before anything else, so a healthy gateway pays one comparison per frame.
 */
export class SlowSockets {
  /** Slow sockets right now. */
  size = 0;
  private readonly byChannel = new Map<string, Set<SlowPath>>();

  constructor(
    /** Unsent bytes past which a socket goes slow; it rejoins its topics below half of it. */
    readonly softLimitBytes: number,
    private readonly metrics: GatewayMetrics,
  ) {}

  /** Hands a frame the fan-out just published to the channel's slow sockets. */
  offer(channel: string, frame: Buffer, kind: ChannelKind): void {
    const paths = this.byChannel.get(channel);
    if (paths === undefined) return;
    const progress = kind === 'task' && isProgressFrame(frame);
    for (const path of paths) path.offer(channel, frame, progress);
  }

  /** Called by a SlowPath as it starts and stops. */
  entered(): void {
    this.size += 1;
    this.metrics.slowSockets.inc();
  }

  left(): void {
    this.size -= 1;
    this.metrics.slowSockets.dec();
  }

  conflated(): void {
    this.metrics.conflatedFrames.inc();
  }

  add(channel: string, path: SlowPath): void {
    let paths = this.byChannel.get(channel);
    if (paths === undefined) this.byChannel.set(channel, (paths = new Set()));
    paths.add(path);
  }

  remove(channel: string, path: SlowPath): void {
    const paths = this.byChannel.get(channel);
    if (paths === undefined) return;
    paths.delete(path);
    if (paths.size === 0) this.byChannel.delete(channel);
  }
}

/** One slow socket's frames while it is off its topics. Made by the connection when it goes slow. */
export class SlowPath {
  private queue: Array<Waiting | undefined> = [];
  private head = 0;
  private waitingBytes = 0;
  /** Per channel, its newest waiting frame when that is a progress frame: the one a newer progress replaces. */
  private readonly lastProgress = new Map<string, Waiting>();
  private readonly topics = new Set<string>();
  private active = true;
  /**
   * Set when a pump stopped at the soft limit: uWebSockets.js then calls `drain` as it writes, so a new
   * frame only needs queueing, not a look at the buffer (one native call per frame per slow socket saved).
   */
  private blocked = false;

  /** Leaves every topic of the socket at once: frames published before are in its buffer, later ones come here. */
  constructor(
    private readonly ws: RawSocket,
    private readonly registry: SlowSockets,
    /** Called once the socket is back on its topics; the connection drops this path. */
    private readonly onRejoined: () => void,
  ) {
    for (const topic of ws.getTopics()) {
      ws.unsubscribe(topic);
      this.addTopic(topic);
    }
    registry.entered();
  }

  /** Bytes waiting here (not yet handed to uWebSockets.js). */
  get queuedBytes(): number {
    return this.waitingBytes;
  }

  /** The socket joins a topic while slow: it receives the channel through this path until it rejoins. */
  addTopic(topic: string): void {
    this.topics.add(topic);
    this.registry.add(topic, this);
    // Frames the gateway sent for this channel (a subscribe's state) are queued: newer progress must follow them.
    this.lastProgress.delete(topic);
  }

  removeTopic(topic: string): void {
    this.topics.delete(topic);
    this.registry.remove(topic, this);
    this.lastProgress.delete(topic);
  }

  /** A frame published on one of the socket's channels. */
  offer(channel: string, frame: Buffer, progress: boolean): void {
    if (progress) {
      const waiting = this.lastProgress.get(channel);
      if (waiting !== undefined) {
        this.waitingBytes += frame.byteLength - waiting.bytes;
        waiting.frame = frame;
        waiting.bytes = frame.byteLength;
        waiting.replaced = true;
        this.registry.conflated();
        if (!this.blocked) this.pump();
        return;
      }
      const queued = this.enqueue(frame);
      queued.channel = channel;
      this.lastProgress.set(channel, queued);
    } else {
      this.enqueue(frame);
      this.lastProgress.delete(channel);
    }
    if (!this.blocked) this.pump();
  }

  /** A frame the gateway itself sends (ack, error, state, bridged frame): it queues behind what waits. */
  push(frame: string | Buffer): void {
    this.enqueue(frame);
    this.pump();
  }

  /** Writes waiting frames while the buffer is below the soft limit; rejoins the topics once nothing waits. */
  pump(): void {
    if (!this.active) return;
    this.blocked = false;
    const soft = this.registry.softLimitBytes;
    if (this.head < this.queue.length && this.ws.getBufferedAmount() < soft) {
      this.ws.cork(() => {
        while (this.head < this.queue.length && this.ws.getBufferedAmount() < soft) this.writeNext();
      });
    }
    if (this.head < this.queue.length) {
      this.blocked = true;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      return;
    }
    this.queue = [];
    this.head = 0;
    if (this.ws.getBufferedAmount() <= soft / 2) this.rejoin();
  }

  /** Hands everything waiting to uWebSockets.js (before a close frame), then stops. */
  flushAndStop(): void {
    if (!this.active) return;
    this.ws.cork(() => {
      while (this.head < this.queue.length) this.writeNext();
    });
    this.stop();
  }

  /** The socket closed: leave the registry, drop what waits. */
  stop(): void {
    if (!this.active) return;
    this.active = false;
    for (const topic of this.topics) this.registry.remove(topic, this);
    this.topics.clear();
    this.lastProgress.clear();
    this.queue = [];
    this.waitingBytes = 0;
    this.registry.left();
  }

  private enqueue(frame: string | Buffer): Waiting {
    const waiting: Waiting = { frame, bytes: typeof frame === 'string' ? frame.length : frame.byteLength };
    this.queue.push(waiting);
    this.waitingBytes += waiting.bytes;
    return waiting;
  }

  private writeNext(): void {
    const waiting = this.queue[this.head]!;
    this.queue[this.head++] = undefined;
    this.waitingBytes -= waiting.bytes;
    // Once written it can no longer be replaced.
    if (waiting.channel !== undefined && this.lastProgress.get(waiting.channel) === waiting) this.lastProgress.delete(waiting.channel);
    const { frame } = waiting;
    this.ws.send(waiting.replaced === true && typeof frame !== 'string' ? markConflated(frame) : frame, false);
  }

  /** Back on every topic in this same step, so the next publish reaches the socket by topic. */
  private rejoin(): void {
    for (const topic of this.topics) this.ws.subscribe(topic);
    this.stop();
    this.onRejoined();
  }
}
