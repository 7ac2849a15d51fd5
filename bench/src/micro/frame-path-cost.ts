/**
 * What the gateway's own JavaScript costs per pub/sub message, between the subscriber's `messageBuffer`
 * event and `app.publish` (issue 12 item 1): the engine's channel registry, the task relay's position check
 * and the fan-out's counters, with `app.publish` stubbed out (uWS's C++ and the kernel's sends are the same
 * for every system). Beside it the bare ceiling's listener (bench/src/peers/bare-uws-server.ts), the same
 * way, and the relay's position check as it was before `frameEpochIs` (an epoch string read per frame).
 * Variants alternate in rounds; CPU is this process's own (process.cpuUsage), per message.
 *
 *   npx tsx bench/src/micro/frame-path-cost.ts [messages per round] [rounds]
 */
import pino from 'pino';
import { Registry } from 'prom-client';
import { encodeTaskEvent, fillTaskFrame, taskChannel } from '@taskpulse/protocol';
import { readFrameEpoch, readFrameOffset } from '@taskpulse/protocol/node';
import type { ChannelListener } from '@taskpulse/engine';
import { ChannelListeners } from '../../../packages/engine/src/channel-listeners';
import type { TemplatedApp } from 'uWebSockets.js';
import { createFanOut } from '../../../apps/gateway/src/fan-out';
import { createGatewayMetrics } from '../../../apps/gateway/src/metrics';
import { createDeliveryMetrics } from '../../../apps/gateway/src/delivery-metrics';
import { PendingWork } from '../../../apps/gateway/src/pending-work';
import { TaskRelay } from '../../../apps/gateway/src/task-relay';
import { FanoutTimer } from '../peers/fanout-timer';

const messages = Number(process.argv[2] ?? 1_000_000);
const rounds = Number(process.argv[3] ?? 5);
const prefix = 'tp';
const TASKS = 1000;
const EPOCH = 'k3x9a0bq7m2p';

let published = 0;
const app = { publish: () => ((published += 1), true) } as unknown as TemplatedApp;
const channels = Array.from({ length: TASKS }, (_, i) => taskChannel(prefix, `task-${i}`));
const channelBytes = channels.map((c) => Buffer.from(c));
/** A progress frame at `offset` (the task id inside does not matter to the path). */
const frameAt = (offset: number) =>
  Buffer.from(fillTaskFrame(encodeTaskEvent({ kind: 'progress', taskId: 'task-0', progress: offset % 100, message: `step ${offset % 1000}` }).frame, offset, EPOCH, {}));

/** Ours: registry -> relay -> fan-out, as gateway.ts wires them. */
function oursPath(): (channel: Buffer, frame: Buffer) => void {
  const registry = new Registry();
  const fanOut = createFanOut(app, createGatewayMetrics(registry));
  const relay = new TaskRelay({
    engine: { onLinkChange: () => () => undefined, subscribe: async () => undefined, unsubscribe: async () => undefined, latest: async () => null, replay: async () => null, prefix } as never,
    publish: fanOut.task,
    metrics: createDeliveryMetrics(registry),
    logger: pino({ level: 'silent' }),
    pending: new PendingWork(),
  });
  const listeners = new ChannelListeners();
  for (const channel of channels) {
    relay.hold(channel);
    listeners.add(channel, relay.listener);
  }
  const onError = (error: unknown) => console.error(error);
  return (channel, frame) => void listeners.emit(channel.toString(), frame, onError);
}

/** Ours with the relay's check as before frameEpochIs: the epoch read into a string per frame. */
function oursBeforePath(): (channel: Buffer, frame: Buffer) => void {
  const registry = new Registry();
  const fanOut = createFanOut(app, createGatewayMetrics(registry));
  const state = new Map(channels.map((c) => [c, { offset: 0, epoch: undefined as string | undefined }]));
  const listener: ChannelListener = (channel, frame) => {
    const s = state.get(channel);
    if (!s) return fanOut.task(channel, frame);
    const offset = readFrameOffset(frame);
    const epoch = readFrameEpoch(frame);
    if (epoch === s.epoch && offset <= s.offset) return;
    s.offset = offset;
    s.epoch = epoch;
    fanOut.task(channel, frame);
  };
  const listeners = new ChannelListeners();
  for (const channel of channels) listeners.add(channel, listener);
  const onError = (error: unknown) => console.error(error);
  return (channel, frame) => void listeners.emit(channel.toString(), frame, onError);
}

/** The ceiling's listener: the topic string, a clock read around the publish, the kind by prefix. */
function ceilingPath(): (channel: Buffer, frame: Buffer) => void {
  const timer = new FanoutTimer();
  const kinds: Array<[string, 'task' | 'user' | 'project']> = [[`${prefix}:{t:`, 'task'], [`${prefix}:u:`, 'user'], [`${prefix}:p:`, 'project']];
  return (channel, frame) => {
    const topic = channel.toString();
    const start = process.hrtime.bigint();
    app.publish(topic, frame, false);
    timer.record(kinds.find(([p]) => topic.startsWith(p))?.[1] ?? 'task', start);
  };
}

/**
 * Each task's offsets only grow (else the relay drops the frame as already sent): message i goes to task
 * i mod TASKS with the round's frame i / TASKS, made ahead so that the round times the path, not the encoding.
 */
function round(path: (channel: Buffer, frame: Buffer) => void, r: number): number {
  const perTask = Math.ceil(messages / TASKS);
  const frames = Array.from({ length: perTask }, (_, j) => frameAt(r * perTask + j + 1));
  const t0 = process.cpuUsage();
  for (let i = 0; i < messages; i++) path(channelBytes[i % TASKS]!, frames[Math.floor(i / TASKS)]!);
  const used = process.cpuUsage(t0);
  return ((used.user + used.system) * 1000) / messages;
}

const variants: Array<[string, (channel: Buffer, frame: Buffer) => void]> = [
  ['ours (registry, relay, fan-out)', oursPath()],
  ['ours, relay as before frameEpochIs', oursBeforePath()],
  ['bare ceiling listener', ceilingPath()],
];
const results = new Map<string, number[]>(variants.map(([name]) => [name, []]));
for (let r = 0; r < rounds; r++) for (const [name, path] of variants) results.get(name)!.push(round(path, r));

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
console.log(`${messages} messages per round, ${rounds} rounds, ${TASKS} task channels, frame ${frameAt(1).length} bytes; app.publish stubbed (${published} calls of ${messages * rounds * variants.length} messages)`);
console.log('| path | ns per message (median) | rounds |');
console.log('|---|---|---|');
for (const [name, v] of results) console.log(`| ${name} | ${median(v).toFixed(0)} | ${v.map((x) => x.toFixed(0)).join(', ')} |`);
