/**
 * How a load generator talks to each system. Our gateway and the bare ceiling speak the taskpulse wire;
 * Socket.IO gets a minimal Engine.IO v4 / Socket.IO v5 client (socketio-wire.ts). Both run on the same raw
 * `ws` client, so the client-side cost of a frame is the same for every system.
 */
import type { WireName } from '../control/commands';
import { socketIoWire } from './socketio-wire';

/** What a frame without a send mark meant during setup. */
export type WireEvent =
  | { kind: 'ready' }
  | { kind: 'ack'; taskId?: string; ref?: number }
  | { kind: 'error'; message: string }
  | { kind: 'other' };

/** One system's client protocol, as the connection pool needs it. */
export interface Wire {
  /** The WebSocket URL of a node (`ws://127.0.0.1:port`) for this identity. */
  url(node: string, userId: string, projectId: string): string;
  /** Reads a frame that carries no send mark; may answer through `reply` (handshakes, pings). */
  control(text: string, reply: (frame: string) => void): WireEvent;
  /** The frame that subscribes to a task; `ref` comes back in the ack. */
  subscribe(taskId: string, ref: number): string;
}

/** The taskpulse wire (packages/protocol): connected frame, subscribe action, ack frame. */
export const taskpulseWire: Wire = {
  url: (node, userId, projectId) =>
    `${node}/api/v1/ws?user_id=${encodeURIComponent(userId)}&project_id=${encodeURIComponent(projectId)}`,
  control(text) {
    if (!text.startsWith('{')) return { kind: 'other' };
    const frame = JSON.parse(text) as { type?: string; task_id?: string; request_id?: string; payload?: { message?: string; code?: string } };
    if (frame.type === 'connected') return { kind: 'ready' };
    if (frame.type === 'ack') {
      const ref = frame.request_id === undefined ? undefined : Number(frame.request_id);
      return { kind: 'ack', ...(frame.task_id === undefined ? {} : { taskId: frame.task_id }), ...(ref === undefined ? {} : { ref }) };
    }
    if (frame.type === 'error') return { kind: 'error', message: `${frame.payload?.code}: ${frame.payload?.message}` };
    return { kind: 'other' };
  },
  subscribe: (taskId, ref) => JSON.stringify({ action: 'subscribe', task_id: taskId, request_id: String(ref) }),
};

/** The wire of a system by name. */
export function wireFor(name: WireName): Wire {
  return name === 'socketio' ? socketIoWire : taskpulseWire;
}
