/**
 * The hot path: an engine frame becomes one `app.publish(channel, frame)`, and uWebSockets.js writes it
 * to every socket subscribed to that topic in C++. Topic names are channel names. A frame is never
 * parsed or re-serialised here; the only per-frame work in JavaScript is one integer add.
 */
import type { TemplatedApp } from 'uWebSockets.js';
import type { ChannelListener } from '@taskpulse/engine';
import type { ChannelKind, GatewayMetrics } from './metrics';

/** One shared engine listener per channel kind; sockets register the same function, ref-counted by the engine. */
export type FanOut = Record<ChannelKind, ChannelListener> & {
  /** Stops publishing (the app is closing); frames still in flight from the engine are ignored. */
  stop(): void;
};

/** Creates the fan-out listeners for one uWebSockets.js app. */
export function createFanOut(app: TemplatedApp, metrics: GatewayMetrics): FanOut {
  let stopped = false;
  const counts = metrics.fannedOut;
  const listener = (kind: ChannelKind): ChannelListener => (channel, frame) => {
    if (stopped) return;
    app.publish(channel, frame, false);
    counts[kind] += 1;
  };
  return {
    task: listener('task'),
    user: listener('user'),
    project: listener('project'),
    stop() {
      stopped = true;
    },
  };
}
