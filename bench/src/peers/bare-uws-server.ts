/**
 * S0, the ceiling: uWebSockets.js topics fed by one ioredis subscriber, and nothing else. It speaks just
 * enough of the taskpulse wire for the load generator (connected frame, subscribe, ack) and subscribes
 * Redis channels on first use; no validation, no history, no sessions, no metrics, no backpressure policy
 * beyond uWS's own. Whatever our gateway does on top of this shows as the gap to it.
 */
import { encodeAckFrame, encodeConnectedFrame, projectChannel, taskChannel, userChannel } from '@taskpulse/protocol';
import { Redis } from 'ioredis';
import uWS from 'uWebSockets.js';
import { FanoutTimer, type FanoutKind } from './fanout-timer';

interface Conn {
  user: string;
  project: string;
  open: boolean;
}

const prefix = process.env.KEY_PREFIX ?? 'tp';
const subscriber = new Redis(process.env.REDIS_URL ?? '');
const channels = new Map<string, Promise<unknown>>();
const live = (channel: string) => channels.get(channel) ?? channels.set(channel, subscriber.subscribe(channel)).get(channel)!;
const timer = new FanoutTimer();
const kinds: Array<[string, FanoutKind]> = [[`${prefix}:{t:`, 'task'], [`${prefix}:u:`, 'user'], [`${prefix}:p:`, 'project']];
let clients = 0;

const app = uWS.App();
subscriber.on('messageBuffer', (channel: Buffer, frame: Buffer) => {
  const topic = channel.toString();
  const start = process.hrtime.bigint();
  app.publish(topic, frame, false);
  timer.record(kinds.find(([p]) => topic.startsWith(p))?.[1] ?? 'task', start);
});

app
  .ws<Conn>('/*', {
    compression: uWS.DISABLED,
    maxPayloadLength: 4096,
    maxBackpressure: 1024 * 1024,
    idleTimeout: 120,
    upgrade: (res, req, context) => {
      const query = new URLSearchParams(req.getQuery() ?? '');
      res.upgrade<Conn>(
        { user: query.get('user_id') ?? '', project: query.get('project_id') ?? '', open: true },
        req.getHeader('sec-websocket-key'),
        req.getHeader('sec-websocket-protocol'),
        req.getHeader('sec-websocket-extensions'),
        context,
      );
    },
    open: (ws) => {
      const conn = ws.getUserData();
      const topics = [userChannel(prefix, conn.user), projectChannel(prefix, conn.project)];
      for (const topic of topics) ws.subscribe(topic);
      const frame = encodeConnectedFrame(`c${++clients}`);
      void Promise.all(topics.map(live)).then(() => conn.open && ws.cork(() => ws.send(frame)));
    },
    message: (ws, data) => {
      const msg = JSON.parse(Buffer.from(data).toString()) as { action?: string; task_id?: string; request_id?: string };
      if (msg.action !== 'subscribe' || !msg.task_id) return;
      const topic = taskChannel(prefix, msg.task_id);
      ws.subscribe(topic);
      const conn = ws.getUserData();
      const ack = encodeAckFrame('subscribe', { taskId: msg.task_id, ...(msg.request_id ? { requestId: msg.request_id } : {}) });
      void live(topic).then(() => conn.open && ws.cork(() => ws.send(ack)));
    },
    close: (ws) => {
      ws.getUserData().open = false;
    },
  })
  .get('/bench/fanout', (res) => {
    res.end(timer.drain());
  })
  .listen('127.0.0.1', Number(process.env.PORT), (token) => {
    if (!token) throw new Error(`ceiling could not listen on ${process.env.PORT}`);
    process.stdout.write(`ceiling listening on ${process.env.PORT} pid=${process.pid}\n`);
  });
