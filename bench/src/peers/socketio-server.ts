/**
 * S5, the peer: a Socket.IO 4 node with @socket.io/redis-adapter, WebSocket transport only, written the
 * way the Socket.IO documentation suggests for this product: a connection joins `user:<id>` and
 * `project:<id>`, a `subscribe` event joins `task:<id>` and is acknowledged. Local fan-out time is measured
 * around the adapter's local broadcast and served at `GET /bench/fanout`.
 */
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { Adapter, type BroadcastOptions } from 'socket.io-adapter';
import { FanoutTimer, type FanoutKind } from './fanout-timer';

const timer = new FanoutTimer();
const localBroadcast = Adapter.prototype.broadcast;
Adapter.prototype.broadcast = function timedBroadcast(this: Adapter, packet: unknown, opts: BroadcastOptions) {
  const start = process.hrtime.bigint();
  localBroadcast.call(this, packet, opts);
  const room = String(opts.rooms.values().next().value ?? 'task:');
  timer.record((room.slice(0, room.indexOf(':')) as FanoutKind) || 'task', start);
};

const http = createServer((req, res) => {
  if (req.url?.startsWith('/bench/fanout')) return void res.end(timer.drain());
  res.statusCode = 404;
  res.end();
});
const pub = new Redis(process.env.REDIS_URL ?? '');
const sub = pub.duplicate();
const io = new Server(http, { transports: ['websocket'], serveClient: false, perMessageDeflate: false, adapter: createAdapter(pub, sub) });

io.on('connection', (socket) => {
  const { user_id: user, project_id: project } = socket.handshake.query;
  void socket.join([`user:${String(user)}`, `project:${String(project)}`]);
  socket.on('subscribe', (taskId: unknown, ack?: (answer: unknown) => void) => {
    if (typeof taskId !== 'string') return ack?.({ error: 'task_id must be a string' });
    void socket.join(`task:${taskId}`);
    ack?.({ ok: true });
  });
});

http.listen(Number(process.env.PORT), '127.0.0.1', () => {
  process.stdout.write(`socket.io listening on ${process.env.PORT} pid=${process.pid}\n`);
});
