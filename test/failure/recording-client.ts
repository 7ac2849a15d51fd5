/**
 * A guide client for the failure test that records everything it is told, in arrival order: every task
 * frame (type, task, offset, epoch), every "recovered: false" the server sends, every open and close.
 * On a close it reconnects like the guide's reconnect snippet (`?old_client_id=<its last client_id>`
 * and nothing else) with the backoff shortened to `backoffMs`. Mode `restore` never subscribes again (the
 * server must restore); mode `resubscribe` also does what the guide's `resubscribeTasks()` does on
 * `connected`, with the offset and epoch of the last frame it has per task.
 */
import WebSocket from 'ws';
import { waitFor } from '@taskpulse/testkit';

export type ClientEvent =
  /** `conflated`: the gateway marked the frame `"conflated":true` (progress frames before it were conflated for a slow socket). */
  | { k: 'frame'; task: string; type: 'progress' | 'status'; offset: number; epoch: string; status?: string; conflated?: true; conn: number }
  /** The server said the task's sequence restarts here (`recovered: false`), with the position it resumes from when given. */
  | { k: 'told'; task: string; offset?: number; epoch?: string; conn: number }
  /** An ack on a later connection the client did not ask for, or answering its resubscribe: a restored subscription. */
  | { k: 'restored'; task: string; recovered: boolean; conn: number }
  | { k: 'open'; conn: number; upstream?: string; at: number }
  | { k: 'close'; conn: number; code: number; at: number };

export interface RecordingClientOptions {
  wsBase: string;
  userId: string;
  projectId: string;
  tasks: string[];
  /** May be changed before the first reconnect (the test balances modes over the gateways once it knows where each client landed). */
  mode: 'restore' | 'resubscribe';
  /** The guide waits 2 s, 4 s, … up to 30 s; the test waits min..max ms. */
  backoffMs?: [number, number];
  /** Reconnects allowed in all (bounded loop). */
  maxReconnects?: number;
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
const INITIAL = 'init-';

export class RecordingClient {
  readonly events: ClientEvent[] = [];
  /** Terminal status received per task. */
  readonly terminal = new Map<string, string>();
  /** Connections opened so far (1 = the first). */
  conn = 0;
  reconnects = 0;
  /** The upstream (gateway address) of the current connection, from nginx's X-Upstream header. */
  upstream?: string;
  private clientId?: string;
  private ws?: WebSocket;
  private stopped = false;
  private attempts = 0;
  private readonly last = new Map<string, { offset: number; epoch: string }>();
  private readonly acked = new Set<string>();

  constructor(readonly options: RecordingClientOptions) {}

  /** Connects, subscribes to every task and resolves once each subscribe is acked. */
  async start(timeoutMs = 20_000): Promise<void> {
    this.connect();
    await waitFor(`acks for ${this.options.tasks.length} subscribes of ${this.options.userId}`, () => this.acked.size === this.options.tasks.length, timeoutMs, 50);
  }

  /** True once every task's terminal status arrived. */
  done(): boolean {
    return this.terminal.size === this.options.tasks.length;
  }

  /** Closes for good (no reconnect) and resolves when the socket is closed. */
  async stop(): Promise<void> {
    this.stopped = true;
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((r) => ws.once('close', r));
    if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    else ws.close();
    await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]);
    ws.terminate();
  }

  private connect(): void {
    const { wsBase, userId, projectId } = this.options;
    const query = this.clientId
      ? `old_client_id=${encodeURIComponent(this.clientId)}`
      : `user_id=${encodeURIComponent(userId)}&project_id=${encodeURIComponent(projectId)}`;
    const conn = ++this.conn;
    const ws = new WebSocket(`${wsBase}/api/v1/ws?${query}`);
    this.ws = ws;
    let closed = false;
    ws.on('upgrade', (res) => {
      const upstream = res.headers['x-upstream'];
      this.upstream = Array.isArray(upstream) ? upstream.at(-1) : upstream;
      this.events.push({ k: 'open', conn, upstream: this.upstream, at: Date.now() });
    });
    ws.on('message', (data) => this.onFrame(conn, ws, JSON.parse(data.toString())));
    // A refused upgrade or a reset is followed by 'close', which reconnects.
    ws.on('error', () => {});
    ws.on('close', (code) => {
      if (closed) return;
      closed = true;
      // The test's own close at the end is no event of the run.
      if (this.stopped) return;
      this.events.push({ k: 'close', conn, code, at: Date.now() });
      if (this.ws !== ws) return;
      if (this.reconnects >= (this.options.maxReconnects ?? 100)) return;
      const [min, max] = this.options.backoffMs ?? [100, 500];
      const delay = Math.min(max, min * 2 ** this.attempts++) + Math.random() * min;
      this.reconnects++;
      setTimeout(() => {
        if (!this.stopped) this.connect();
      }, delay);
    });
  }

  private onFrame(conn: number, ws: WebSocket, f: any): void {
    const taskId: string | undefined = typeof f.task_id === 'string' ? f.task_id : undefined;
    if ((f.type === 'progress' || f.type === 'status') && f.scope === undefined && taskId && typeof f.offset === 'number') {
      const status = f.type === 'status' ? f.payload?.status : undefined;
      const event: ClientEvent = { k: 'frame', task: taskId, type: f.type, offset: f.offset, epoch: f.epoch, status, conn };
      if (f.conflated === true) event.conflated = true;
      this.events.push(event);
      this.last.set(taskId, { offset: f.offset, epoch: f.epoch });
      if (status && TERMINAL.has(status)) this.terminal.set(taskId, status);
      return;
    }
    if (f.type === 'connected') return this.onConnected(conn, ws, f.payload ?? {});
    if (f.type === 'ack' && f.action === 'subscribe' && taskId) {
      const initial = typeof f.request_id === 'string' && f.request_id.startsWith(INITIAL);
      if (initial) this.acked.add(taskId);
      else this.events.push({ k: 'restored', task: taskId, recovered: f.payload?.recovered !== false, conn });
      // A fresh first subscribe is never "recovered"; that says nothing about a restart.
      if (!initial && f.payload?.recovered === false) this.told(taskId, f.payload, conn);
      return;
    }
    // Any other frame about a task that says history did not reach back (a repair notice, say).
    if (taskId && f.payload?.recovered === false) this.told(taskId, f.payload, conn);
  }

  private onConnected(conn: number, ws: WebSocket, payload: any): void {
    this.clientId = payload.client_id;
    this.attempts = 0;
    // Restore details in the connected frame, in whatever shape: [{task_id, recovered}] or {task: {recovered}}.
    for (const value of Object.values(payload)) {
      if (Array.isArray(value)) {
        for (const item of value) if (item && typeof item.task_id === 'string' && item.recovered === false) this.told(item.task_id, item, conn);
      } else if (value && typeof value === 'object') {
        for (const [task, item] of Object.entries(value as Record<string, any>)) if (item && item.recovered === false) this.told(task, item, conn);
      }
    }
    if (conn === 1) {
      for (const task of this.options.tasks) ws.send(JSON.stringify({ action: 'subscribe', task_id: task, request_id: `${INITIAL}${task}` }));
    } else if (this.options.mode === 'resubscribe') {
      for (const task of this.options.tasks) {
        const at = this.last.get(task);
        ws.send(JSON.stringify(at ? { action: 'subscribe', task_id: task, offset: at.offset, epoch: at.epoch } : { action: 'subscribe', task_id: task }));
      }
    }
  }

  private told(task: string, payload: any, conn: number): void {
    const event: ClientEvent = { k: 'told', task, conn };
    if (typeof payload.offset === 'number') event.offset = payload.offset;
    if (typeof payload.epoch === 'string') event.epoch = payload.epoch;
    this.events.push(event);
  }
}
