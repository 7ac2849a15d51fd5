/**
 * Between the engine and the task fan-out: knows, per task channel, the newest frame the gateway
 * published to the channel's uWebSockets.js topic (one byte scan per frame per gateway, never per socket),
 * and repairs the topics after the engine's subscriber link was lost. Every socket on a topic has been
 * sent exactly the frames published to it, so that position is each of their positions (what sessions save).
 *
 * Repair (issue 7 item 3): on `lost`, every channel starts holding its live frames (none arrive while the
 * link is down; the first ones after it is back must wait behind the repair). On `restored`, each channel
 * reads what it missed after its position: exactly the missed frames when history covers the hole, else
 * the current state (the newest progress and status frames) followed by an `ack` with action `resync`,
 * `recovered: false` and the new position; then the held frames newer than that, in order. Sockets stay
 * connected and see a contiguous sequence, or are told it could not be.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { encodeAckFrame } from '@taskpulse/protocol';
import { frameEpochIs, readFrameEpoch, readFrameOffset } from '@taskpulse/protocol/node';
import type { ChannelListener, EngineStatus, LinkEvent, PubSub, TaskPosition, TaskStore } from '@taskpulse/engine';
import type { DeliveryMetrics } from './delivery-metrics';
import type { PendingWork } from './pending-work';
import { readTaskState } from './read-task-state';
import { epochChangeNotice } from './epoch-change';

interface ChannelState {
  /** Subscriptions of this gateway on the channel (held by task-subscriptions.ts around its fan-out registration). */
  refs: number;
  /** The newest frame published to the topic; epoch undefined until one was (or a subscribe window seeded it). */
  offset: number;
  epoch: string | undefined;
  /** Present while the channel waits for (or runs) a repair: live frames queue here. */
  held?: Buffer[];
  repairing: boolean;
  /** Subscribe windows on this channel still bridging (not on the topic yet): joined at once when the link is lost. */
  bridging?: Set<{ joinNow(): void }>;
}

export interface TaskRelayContext {
  engine: Pick<PubSub, 'onLinkChange' | 'subscribe' | 'unsubscribe'> & Pick<TaskStore, 'latest' | 'replay'> & Pick<EngineStatus, 'prefix'>;
  /** Publishes to the channel's topic (the fan-out's task listener). */
  publish: ChannelListener;
  metrics: DeliveryMetrics;
  logger: Logger;
  pending: PendingWork;
  /** Pause between failed repair reads, in ms. Default 500. */
  retryMs?: number;
  /** Failed repair reads before a channel gives up and releases what it held. Default 20. */
  maxAttempts?: number;
}

export class TaskRelay {
  private readonly channels = new Map<string, ChannelState>();
  /** Bumped on every `lost`: a repair that ran across a new loss repeats. */
  private generation = 0;
  private linkDown = false;
  private readonly unsubscribeLink: () => void;

  constructor(private readonly ctx: TaskRelayContext) {
    this.unsubscribeLink = ctx.engine.onLinkChange((event) => this.linkChanged(event));
  }

  /** The engine listener for task channels, registered by subscriptions in place of the fan-out's. */
  readonly listener: ChannelListener = (channel, frame) => {
    const state = this.channels.get(channel);
    if (state?.held) {
      state.held.push(frame);
      return;
    }
    if (!state) return this.ctx.publish(channel, frame);
    const offset = readFrameOffset(frame);
    // Per frame: a frame in the topic's epoch (nearly all) is compared in place, with no epoch string made.
    const epoch = state.epoch !== undefined && frameEpochIs(frame, state.epoch) ? state.epoch : readFrameEpoch(frame);
    // A repair's read (command connection) can see a frame whose PUBLISH reaches the subscriber link only
    // after the channel went live again: the topic already had it.
    if (epoch === state.epoch && offset <= state.offset) return;
    this.forward(channel, state, frame, offset, epoch);
  };

  /** A subscription starts using the channel (call before registering `listener` with the engine). */
  hold(channel: string): void {
    const state = this.channels.get(channel);
    if (state) state.refs += 1;
    else this.channels.set(channel, { refs: 1, offset: 0, epoch: undefined, repairing: false });
  }

  /** A subscription stopped using the channel. */
  drop(channel: string): void {
    const state = this.channels.get(channel);
    if (!state) return;
    state.refs -= 1;
    if (state.refs <= 0) this.channels.delete(channel);
  }

  /** Bumped whenever a channel's position moves: the session keeper saves the node's positions only after a change. */
  version = 0;

  /** Every channel's position (what each socket on its topic was sent), by task id; channels with none yet left out. */
  positionsByTask(): Record<string, TaskPosition> {
    const positions: Record<string, TaskPosition> = {};
    for (const [channel, state] of this.channels) {
      if (state.epoch !== undefined) positions[taskIdOf(this.ctx.engine.prefix, channel)] = { offset: state.offset, epoch: state.epoch };
    }
    return positions;
  }

  /** What every socket on the channel's topic has been sent, or undefined when nothing was yet. */
  position(channel: string): TaskPosition | undefined {
    const state = this.channels.get(channel);
    return state?.epoch === undefined ? undefined : { offset: state.offset, epoch: state.epoch };
  }

  /** A subscribe window joined the topic at this position: the topic's position when nothing was published to it yet. */
  seed(channel: string, position: { offset: number; epoch: string | undefined }, window?: { joinNow(): void }): void {
    const state = this.channels.get(channel);
    if (window) state?.bridging?.delete(window);
    if (state && state.epoch === undefined && position.epoch !== undefined) {
      state.offset = position.offset;
      state.epoch = position.epoch;
      this.version += 1;
    }
  }

  /**
   * A subscribe window bridges on the channel until a newer frame passes; a link loss makes it join at
   * once, and so does the next link barrier (`barrier`): on an idle task no newer frame may come for hours,
   * and a bridging window holds a listener, closures and its state per socket meanwhile.
   */
  bridge(channel: string, window: { joinNow(): void }): void {
    const state = this.channels.get(channel);
    if (!state) return;
    (state.bridging ??= new Set()).add(window);
    this.awaitingBarrier.push(window);
    this.barrier();
  }

  /** Windows whose state read finished before no barrier started yet. */
  private awaitingBarrier: Array<{ joinNow(): void }> = [];
  private barrierRunning = false;
  private barriers = 0;

  /**
   * A round trip on the engine's subscriber link: SUBSCRIBE (and UNSUBSCRIBE) of a channel no one
   * publishes to. Redis answers it after every message it pushed to the link before, so once confirmed,
   * every frame published before a window's state read (which finished before the barrier started) has
   * passed that window's listener: nothing the state covers can follow, and the window joins its topic.
   * One barrier at a time serves every window waiting when it starts.
   */
  private barrier(): void {
    if (this.barrierRunning || this.awaitingBarrier.length === 0) return;
    const windows = this.awaitingBarrier;
    this.awaitingBarrier = [];
    this.barrierRunning = true;
    const { engine } = this.ctx;
    const channel = `${engine.prefix}:barrier:${this.barrierId}:${(this.barriers += 1)}`;
    let failed = false;
    const done = engine.subscribe(channel, ignoreFrame).then(
      () => {
        for (const window of windows) window.joinNow();
        return engine.unsubscribe(channel, ignoreFrame).catch((error: unknown) => {
          this.ctx.logger.warn({ err: error, channel }, 'leaving a link barrier channel failed');
        });
      },
      (error: unknown) => {
        // The link is in trouble: its loss joins every bridging window anyway; else the next barrier retries these.
        this.ctx.logger.warn({ err: error }, 'a link barrier failed; bridging windows wait for the next one');
        this.awaitingBarrier.push(...windows);
        failed = true;
      },
    );
    void this.ctx.pending.track(
      done.finally(() => {
        this.barrierRunning = false;
        if (this.stopped) return;
        if (!failed) this.barrier();
        else setTimeout(() => this.barrier(), this.ctx.retryMs ?? 500).unref();
      }),
    );
  }

  /** Tells this gateway's barrier channels apart from other gateways' on the same Redis. */
  private readonly barrierId = randomBytes(6).toString('hex');

  private stopped = false;

  /** Stops listening for link changes (the gateway closes). */
  stop(): void {
    this.stopped = true;
    this.unsubscribeLink();
  }

  private linkChanged(event: LinkEvent): void {
    if (event === 'lost') {
      this.generation += 1;
      this.linkDown = true;
      for (const state of this.channels.values()) {
        state.held ??= [];
        const windows = state.bridging;
        state.bridging = undefined;
        // joinNow seeds this channel's position (task-subscriptions.ts) when no frame reached the topic yet
        for (const window of windows ?? []) window.joinNow();
      }
      this.ctx.logger.warn({ channels: this.channels.size }, 'engine link lost: task channels hold their frames until repaired');
      return;
    }
    this.linkDown = false;
    for (const [channel, state] of this.channels) {
      if (state.held && !state.repairing) void this.ctx.pending.track(this.repair(channel, state));
    }
  }

  /** Repairs one channel until it ran once without a new loss; never throws. */
  private async repair(channel: string, state: ChannelState): Promise<void> {
    state.repairing = true;
    try {
      for (;;) {
        const generation = this.generation;
        const done = await this.repairOnce(channel, state);
        if (this.channels.get(channel) !== state) return;
        if (generation === this.generation || !done) {
          this.release(channel, state);
          return;
        }
        if (this.linkDown) return; // lost again meanwhile: the next `restored` repairs from the new position
      }
    } finally {
      state.repairing = false;
    }
  }

  /** Reads and publishes what the topic missed; false when the engine stayed unreachable. */
  private async repairOnce(channel: string, state: ChannelState): Promise<boolean> {
    const { engine, logger, metrics } = this.ctx;
    const taskId = taskIdOf(engine.prefix, channel);
    const before = state.epoch === undefined ? undefined : { offset: state.offset, epoch: state.epoch };
    const maxAttempts = this.ctx.maxAttempts ?? 20;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (this.channels.get(channel) !== state) return true;
      let read;
      try {
        read = await readTaskState(engine, taskId, before);
      } catch (error) {
        logger.warn({ err: error, taskId, attempt }, 'reading missed frames for a repair failed; retrying');
        await new Promise((r) => setTimeout(r, this.ctx.retryMs ?? 500));
        continue;
      }
      if (this.channels.get(channel) !== state) return true;
      for (const frame of read.frames) {
        const offset = readFrameOffset(frame);
        // state frames the topic already had (same epoch, not newer) are not sent again
        if (!read.recovered && before && readFrameEpoch(frame) === before.epoch && offset <= before.offset) continue;
        this.ctx.publish(channel, frame);
      }
      if (!read.recovered && before) {
        const ack = encodeAckFrame('resync', { taskId, recovered: false, offset: read.offset, epoch: read.epoch });
        this.ctx.publish(channel, Buffer.from(ack));
      }
      metrics.repairs.inc({ result: read.recovered || !before ? 'recovered' : 'resync' });
      state.offset = read.offset;
      state.epoch = read.epoch;
      return true;
    }
    metrics.repairs.inc({ result: 'failed' });
    logger.error({ taskId, attempts: maxAttempts }, 'repair gave up: the engine stayed unreachable; frames missed during the outage are not resent');
    return false;
  }

  /** Publishes the held frames the repair did not already cover, in order, and goes live again. */
  private release(channel: string, state: ChannelState): void {
    const held = state.held ?? [];
    state.held = undefined;
    for (const frame of held) {
      const offset = readFrameOffset(frame);
      const epoch = readFrameEpoch(frame);
      if (epoch === state.epoch && offset <= state.offset) continue;
      this.forward(channel, state, frame, offset, epoch);
    }
  }

  /**
   * Publishes a live frame and moves the channel's position. A frame in another epoch than the one the
   * topic is in (the task's history was lost live, e.g. FLUSHALL, with no link loss) is preceded by a
   * `resync` ack, `recovered: false`, at the position just before it in the new epoch, so clients know
   * the sequence restarted. It goes through the same publish, so slow sockets queue it (never conflated).
   */
  private forward(channel: string, state: ChannelState, frame: Buffer, offset = readFrameOffset(frame), epoch = readFrameEpoch(frame)): void {
    if (state.epoch !== undefined && epoch !== state.epoch) {
      const taskId = taskIdOf(this.ctx.engine.prefix, channel);
      this.ctx.publish(channel, Buffer.from(epochChangeNotice(taskId, offset, epoch)));
      this.ctx.metrics.epochChanges.inc();
    }
    state.offset = offset;
    state.epoch = epoch;
    this.version += 1;
    this.ctx.publish(channel, frame);
  }
}

/** The listener of a barrier channel: nothing is published there. */
function ignoreFrame(): void {}

/** The task id inside `<prefix>:{t:<taskId>}` (protocol's taskChannel). */
function taskIdOf(prefix: string, channel: string): string {
  return channel.slice(prefix.length + 4, -1);
}
