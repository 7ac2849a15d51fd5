/**
 * The hot path: an engine frame becomes one `app.publish(channel, frame)`, and uWebSockets.js writes it
 * to every socket subscribed to that topic in C++. Topic names are channel names. A frame is never
 * parsed or re-serialised here; the per-frame work in JavaScript is two adds (frames, bytes) and a sample
 * counter; one task frame in eight also has its `published_at` read and its delivery latency counted
 * (delivery-latency.ts), once per fan-out whatever the number of sockets. User and project broadcasts,
 * rare and wide, are also timed (taskpulse_gateway_broadcast_fanout_seconds).
 */
import type { TemplatedApp } from 'uWebSockets.js';
import type { ChannelListener } from '@taskpulse/engine';
import { readFramePublishedAt } from '@taskpulse/protocol/node';
import type { ChannelKind, GatewayMetrics } from './metrics';
import type { SlowSockets } from './slow-sockets';

/** One shared engine listener per channel kind; sockets register the same function, ref-counted by the engine. */
export type FanOut = Record<ChannelKind, ChannelListener> & {
  /** Stops publishing (the app is closing); frames still in flight from the engine are ignored. */
  stop(): void;
};

/**
 * Creates the fan-out listeners for one uWebSockets.js app. Slow sockets are off their topics and get
 * the same frame right after the publish, in the same step (slow-sockets.ts); with none, that is one comparison.
 */
export function createFanOut(app: TemplatedApp, metrics: GatewayMetrics, slow?: SlowSockets): FanOut {
  let stopped = false;
  const counts = metrics.fannedOut;
  const bytes = metrics.fannedOutBytes;
  const latency = metrics.deliveryLatency;
  const task: ChannelListener = (channel, frame) => {
    if (stopped) return;
    app.publish(channel, frame, false);
    if (slow !== undefined && slow.size !== 0) slow.offer(channel, frame, 'task');
    counts.task += 1;
    bytes.task += frame.length;
    if (latency.sampleTask()) latency.observe('task', readFramePublishedAt(frame), Date.now());
  };
  const timed = (kind: 'user' | 'project'): ChannelListener => {
    const observe = metrics.broadcastFanout.labels(kind);
    return (channel, frame) => {
      if (stopped) return;
      const start = performance.now();
      app.publish(channel, frame, false);
      if (slow !== undefined && slow.size !== 0) slow.offer(channel, frame, kind);
      observe.observe((performance.now() - start) / 1000);
      counts[kind] += 1;
      bytes[kind] += frame.length;
      latency.observe(kind, readFramePublishedAt(frame), Date.now());
    };
  };
  return {
    task,
    user: timed('user'),
    project: timed('project'),
    stop() {
      stopped = true;
    },
  };
}
