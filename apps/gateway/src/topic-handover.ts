/**
 * One socket's way from "registered on the task channel" to "delivered by uWebSockets.js topic", without
 * a gap or a duplicate. Frames arriving before the state is read are held. After the read, the state,
 * the ack and the held frames newer than the state go out in one corked write. The socket joins the
 * topic only once no frame the state already covers can still be on its way: with Redis the state is
 * read over one connection and frames arrive over another, so a frame published just before the read
 * may arrive after it. Frames of one task arrive in order, so once a frame at or past the state's offset
 * has passed this listener, nothing older can follow. Until then the window bridges: it forwards newer
 * frames itself and joins right after the first one (after the engine's current emit, so that frame is
 * not also delivered by the topic). Only this window looks inside frames (offset and epoch).
 */
import { readFrameEpoch, readFrameOffset } from '@taskpulse/protocol/node';
import type { ChannelListener } from '@taskpulse/engine';
import type { TaskStateRead } from './read-task-state';
import { epochChangeNotice } from './epoch-change';
import type { TaskSocket } from './task-socket';

export class TopicHandover {
  private phase: 'holding' | 'bridging' | 'done' = 'holding';
  private held: Buffer[] = [];
  /** The state's position: frames at or below it in its epoch are covered. */
  private stateOffset = 0;
  private stateEpoch: string | undefined;
  /** The newest position the socket was sent. */
  private sentOffset = 0;
  private sentEpoch: string | undefined;
  private joinQueued = false;

  constructor(
    private readonly socket: TaskSocket,
    private readonly topic: string,
    /** Called once the socket joined the topic: time to drop this window's engine registration. */
    private readonly onJoined: () => void,
    /** The task, named in the `resync` notice of an epoch change the window forwards itself. */
    private readonly taskId: string,
  ) {}

  /** The per-socket engine listener of this window. */
  readonly listener: ChannelListener = (_channel, frame) => {
    if (this.phase === 'holding') this.held.push(frame);
    else if (this.phase === 'bridging') this.bridge(frame);
  };

  /** The newest position the socket was sent (epoch undefined while it was sent no task frame with one). */
  get position(): { offset: number; epoch: string | undefined } {
    return { offset: this.sentOffset, epoch: this.sentEpoch };
  }

  /** True while the window forwards frames itself (the socket is not on the topic yet). */
  get bridging(): boolean {
    return this.phase === 'bridging';
  }

  /** Sends state, ack and newer held frames in one corked write; joins the topic now or bridges until it can. */
  deliver(state: TaskStateRead, ack: string): void {
    this.stateOffset = this.sentOffset = state.offset;
    this.stateEpoch = this.sentEpoch = state.epoch;
    // An unknown task has no older frames that could still be on their way.
    let caughtUp = state.offset === 0;
    this.socket.cork(() => {
      for (const frame of state.frames) this.socket.send(frame);
      this.socket.send(ack);
      for (const frame of this.held) caughtUp = this.pass(frame) || caughtUp;
      if (caughtUp) this.socket.subscribeTopic(this.topic);
    });
    this.held = [];
    if (caughtUp) this.finish();
    else this.phase = 'bridging';
  }

  /**
   * The engine link was lost (task-relay.ts): no frame can be on its way any more, so a bridging window
   * joins the topic now and the relay's repair covers what follows.
   */
  joinNow(): void {
    if (this.phase !== 'bridging' || this.socket.closed) return;
    this.socket.subscribeTopic(this.topic);
    this.finish();
  }

  /** Stops forwarding (unsubscribe or close); the owner removes the engine registration. */
  stop(): void {
    this.phase = 'done';
    this.held = [];
  }

  private bridge(frame: Buffer): void {
    if (this.socket.closed) return;
    let caughtUp = false;
    this.socket.cork(() => {
      caughtUp = this.pass(frame);
    });
    if (caughtUp && !this.joinQueued) {
      this.joinQueued = true;
      // After the current emit: its fan-out publish then reaches only sockets already on the topic.
      queueMicrotask(() => {
        if (this.phase !== 'bridging' || this.socket.closed) return;
        this.socket.subscribeTopic(this.topic);
        this.finish();
      });
    }
  }

  /** Sends the frame if the socket has not seen it; returns true once nothing the state covers can follow. */
  private pass(frame: Buffer): boolean {
    const offset = readFrameOffset(frame);
    const epoch = readFrameEpoch(frame);
    // A different epoch means the task's history was lost and it started again: its frames are new, and
    // the client is told first, as the relay tells the sockets on the topic (task-relay.ts).
    if (epoch !== this.sentEpoch || offset > this.sentOffset) {
      if (this.sentEpoch !== undefined && epoch !== this.sentEpoch) this.socket.send(epochChangeNotice(this.taskId, offset, epoch));
      this.socket.send(frame);
      this.sentOffset = offset;
      this.sentEpoch = epoch;
    }
    return epoch !== this.stateEpoch || offset >= this.stateOffset;
  }

  private finish(): void {
    this.phase = 'done';
    this.onJoined();
  }
}
