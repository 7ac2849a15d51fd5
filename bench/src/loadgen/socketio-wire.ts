/**
 * A minimal Socket.IO client over a raw WebSocket: Engine.IO v4 packets (`0` open, `2` ping, `3` pong,
 * `4` message) carrying Socket.IO v5 packets (`0` connect, `2` event, `3` ack, `4` connect error). Enough
 * for connect, subscribe with an ack, heartbeats and receiving events; nothing else.
 */
import type { Wire } from './wire';

/** The Socket.IO wire (Engine.IO v4, Socket.IO v5, main namespace). */
export const socketIoWire: Wire = {
  url: (node, userId, projectId) =>
    `${node}/socket.io/?EIO=4&transport=websocket&user_id=${encodeURIComponent(userId)}&project_id=${encodeURIComponent(projectId)}`,
  control(text, reply) {
    switch (text[0]) {
      case '0': // Engine.IO open: join the main namespace.
        reply('40');
        return { kind: 'other' };
      case '2': // Engine.IO ping from the server.
        reply('3');
        return { kind: 'other' };
      case '1':
        return { kind: 'error', message: 'engine.io close' };
      case '4':
        break;
      default:
        return { kind: 'other' };
    }
    switch (text[1]) {
      case '0':
        return { kind: 'ready' };
      case '3': {
        const ref = Number.parseInt(text.slice(2), 10);
        return Number.isNaN(ref) ? { kind: 'other' } : { kind: 'ack', ref };
      }
      case '4':
        return { kind: 'error', message: `socket.io connect error ${text.slice(2)}` };
      case '1':
        return { kind: 'error', message: 'socket.io disconnect' };
      default:
        return { kind: 'other' };
    }
  },
  subscribe: (taskId, ref) => `42${ref}${JSON.stringify(['subscribe', taskId])}`,
};
