/**
 * The connection: one WebSocket at a time, reconnected with backoff and full jitter while the close codes
 * allow it (`shouldReconnect`: 1012 and 4000-4499 yes, 4500-4999 never), resumed on the new socket by
 * `old_client_id` (the server restores identity and subscriptions) and by position: right after `connected`
 * the client subscribes to each of its tasks again with the offset+epoch it holds, which claims the task
 * before the server's own restore and makes the replay exact. Frames are checked per task by
 * TaskSubscription, so a reconnect never shows a frame twice and never skips one silently.
 */
import { shouldReconnect, type AckFrame, type BroadcastFrame, type ClientMessage, type ErrorFrame, type ServerFrame } from '@taskpulse/protocol';
import { reconnectDelay, type BackoffOptions } from './backoff';
import { Emitter } from './emitter';
import { TaskpulseError } from './errors';
import { TaskSubscription, type SubscribeAck, type TaskHandlers } from './task-subscription';
import type { TaskView } from './task-view';
import { websocketUrl } from './url';

/** The part of the WebSocket API the client uses: the browser's, Node 22's global, or the `ws` package's. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: never) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: never) => void) | null;
}

/** A WebSocket constructor (`WebSocket` in browsers, `import WebSocket from 'ws'` on Node 20). */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** Who connects: a JWT (`AUTH_MODE=jwt`) or the guide's query identity (`AUTH_MODE=insecure`). */
export type Identity = { token: string } | { userId?: string; projectId?: string };

/** Everything optional besides the identity. */
export type ConnectOptions = Identity & {
  /** The WebSocket constructor; default `globalThis.WebSocket` (browsers, Node 22+). */
  WebSocket?: WebSocketConstructor;
  /** Reconnect delay bounds (default 1 s to 30 s); reconnects are never capped in number. */
  backoff?: BackoffOptions;
  /** How long an action (subscribe, unsubscribe, ping, refresh) waits for its ack (default 10 s). */
  actionTimeoutMs?: number;
  /** How long a new socket waits for `connected` before it is dropped and retried (default 10 s). */
  connectTimeoutMs?: number;
  /** A ping every this many ms while connected; no ack within actionTimeoutMs drops the socket (default 25 s, 0 off). */
  pingIntervalMs?: number;
  /** Relative URLs resolve against this (default: `location.href` in a page). */
  baseUrl?: string;
  /** Random numbers in [0, 1) for the jitter (tests pass their own). */
  random?: () => number;
};

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** A change of connection state, with what caused it. */
export interface ConnectionStateEvent {
  state: ConnectionState;
  /** reconnecting: the attempt about to be made (1-based) and the wait before it. */
  attempt?: number;
  delayMs?: number;
  /** The close code and reason that ended the previous socket, when one did. */
  code?: number;
  reason?: string;
}

/** The greeting of a connection: who the server says we are, and what it restored. */
export interface ConnectedEvent {
  clientId: string;
  userId?: string;
  projectId?: string;
  /** Present when the connection resumed a session (`old_client_id`): the tasks the server restored. */
  restoredTasks?: string[];
}

/** The client's events; `on(name, listener)` returns a function that removes the listener. */
export interface ClientEvents {
  state: ConnectionStateEvent;
  connected: ConnectedEvent;
  /** A user or project broadcast (a notification, no offset). */
  broadcast: BroadcastFrame;
  /** Errors not tied to a task or action: a terminal close, an unreadable frame, an error frame without context. */
  error: TaskpulseError;
  /** Every frame as received, before the stream rules (for logging and `--json`). */
  frame: ServerFrame;
}

/** Counters for tests and diagnostics. */
export interface ClientCounters {
  /** Sockets opened after the first. */
  reconnects: number;
  /** Task frames dropped because the task already had that offset. */
  duplicatesDropped: number;
  /** Holes found in a task's offsets and repaired by subscribing again. */
  holesRepaired: number;
}

/** What `subscribe` returns: call it to unsubscribe; `ready` settles with the first ack; `view` is the live task view. */
export type Unsubscribe = (() => Promise<void>) & { ready: Promise<SubscribeAck>; view: TaskView };

interface PendingAction {
  action: string;
  taskId?: string;
  resolve(frame: AckFrame): void;
  reject(error: TaskpulseError): void;
  timer: ReturnType<typeof setTimeout>;
}

const OPEN = 1;
const DEFAULT_ACTION_TIMEOUT_MS = 10_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_PING_INTERVAL_MS = 25_000;
/** A subscribe the server could not serve (`unavailable`) is tried again after this long. */
const RETRY_UNAVAILABLE_MS = 1000;
/** Subscribe errors after which the task is dropped: asking again would get the same answer. */
const FINAL_SUBSCRIBE_ERRORS = new Set(['forbidden', 'not_found', 'bad_request', 'too_many_subscriptions']);

/** A taskpulse connection; made by `connect`. */
export class TaskpulseClient {
  /** The current connection state. */
  state: ConnectionState = 'connecting';
  /** The server's id for the current (or last) connection; a reconnect resumes it. */
  clientId: string | undefined;
  readonly counters: ClientCounters = { reconnects: 0, duplicatesDropped: 0, holesRepaired: 0 };

  private readonly events = new Emitter<ClientEvents>();
  private readonly subscriptions = new Map<string, TaskSubscription>();
  private readonly pending = new Map<string, PendingAction>();
  private readonly url: URL;
  private readonly WebSocketImpl: WebSocketConstructor;
  private ws: WebSocketLike | undefined;
  private greeted = false;
  private attempt = 0;
  private nextRequest = 1;
  private closedByUser = false;
  /** Set when a resumed session was not found: the next socket connects with the ids again. */
  private skipResume = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;

  constructor(
    url: string,
    private readonly options: ConnectOptions,
  ) {
    const base = options.baseUrl ?? (globalThis as { location?: { href: string } }).location?.href;
    this.url = websocketUrl(url, base);
    const impl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (impl === undefined) {
      throw new TypeError('no WebSocket implementation: pass { WebSocket } (e.g. from the ws package) on Node before 22');
    }
    this.WebSocketImpl = impl;
    this.open();
  }

  /** Listens to a client event; returns the function that stops listening. */
  on<K extends keyof ClientEvents>(event: K, listener: (value: ClientEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  /** Resolves once the connection is (or is again) connected; rejects after `timeoutMs` or when the client is closed. */
  whenConnected(timeoutMs = this.actionTimeoutMs()): Promise<void> {
    if (this.state === 'connected') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new TaskpulseError('timeout', `not connected within ${timeoutMs} ms`)), timeoutMs);
      const off = this.on('state', (event) => {
        if (event.state === 'connected') done();
        else if (event.state === 'closed') done(new TaskpulseError('closed', 'the client was closed before it connected', { closeCode: event.code }));
      });
      const done = (error?: TaskpulseError) => {
        clearTimeout(timer);
        off();
        if (error) reject(error);
        else resolve();
      };
    });
  }

  /**
   * Follows a task: its current state, then live frames, across reconnects. Several calls for one task
   * share one server subscription; the server unsubscribe is sent when the last caller unsubscribes.
   */
  subscribe(taskId: string, handlers: TaskHandlers = {}): Unsubscribe {
    let subscription = this.subscriptions.get(taskId);
    const fresh = subscription === undefined;
    if (!subscription) {
      subscription = new TaskSubscription(taskId);
      this.subscriptions.set(taskId, subscription);
    }
    const sub = subscription;
    sub.handlers.add(handlers);
    const ready =
      !fresh && sub.lastAck !== undefined && !sub.settling
        ? Promise.resolve(sub.lastAck)
        : this.waitForAck(sub);
    // A caller that never reads `ready` must not see an unhandled rejection: the error handler gets it too.
    ready.catch(() => undefined);
    if (fresh) this.sendSubscribe(sub);
    const unsubscribe = async () => {
      if (!sub.handlers.delete(handlers) || sub.handlers.size > 0) return;
      if (this.subscriptions.get(taskId) === sub) this.subscriptions.delete(taskId);
      if (this.state !== 'connected') return;
      await this.request({ action: 'unsubscribe', task_id: taskId }, taskId).then(
        () => undefined,
        (error: unknown) => {
          // Not connected any more: the next connection simply does not subscribe again.
          if (!(error instanceof TaskpulseError && error.code === 'disconnected')) throw error;
        },
      );
    };
    return Object.assign(unsubscribe, { ready, view: sub.view });
  }

  /** The view of a followed task, or undefined. */
  view(taskId: string): TaskView | undefined {
    return this.subscriptions.get(taskId)?.view;
  }

  /** Every followed task's view. */
  views(): TaskView[] {
    return [...this.subscriptions.values()].map((sub) => sub.view);
  }

  /** Round trip to the server; resolves with the ack. */
  ping(): Promise<AckFrame> {
    return this.request({ action: 'ping' });
  }

  /** jwt mode: hands the server a fresh token for the same user before the current one expires. */
  refresh(token: string): Promise<AckFrame> {
    if ('token' in this.options) (this.options as { token: string }).token = token;
    return this.request({ action: 'refresh', token });
  }

  /** Drops the current socket as a network failure would and reconnects after the backoff (for "retry now" buttons and tests). */
  reconnect(): void {
    if (this.closedByUser) return;
    const ws = this.detach();
    ws?.close(1000, 'client reconnects');
    this.afterSocket(1006, 'dropped by the client');
  }

  /** Closes for good: no reconnect; pending actions are rejected. */
  close(): void {
    this.closedByUser = true;
    clearTimeout(this.reconnectTimer);
    const ws = this.detach();
    ws?.close(1000, 'client closed');
    const closed = new TaskpulseError('closed', 'the client was closed');
    this.failPending(closed);
    for (const sub of this.subscriptions.values()) sub.failWaiters(closed);
    this.setState({ state: 'closed' });
  }

  private actionTimeoutMs(): number {
    return this.options.actionTimeoutMs ?? DEFAULT_ACTION_TIMEOUT_MS;
  }

  private socketUrl(): string {
    const url = new URL(this.url);
    const resumeId = this.skipResume ? undefined : this.clientId;
    if ('token' in this.options) url.searchParams.set('token', this.options.token);
    if (resumeId !== undefined) url.searchParams.set('old_client_id', resumeId);
    // Insecure mode: ids in the URL win over a session, so a resume sends the old id alone (the guide's URL).
    else if (!('token' in this.options)) {
      if (this.options.userId !== undefined) url.searchParams.set('user_id', this.options.userId);
      if (this.options.projectId !== undefined) url.searchParams.set('project_id', this.options.projectId);
    }
    return url.href;
  }

  private open(): void {
    const resumed = !this.skipResume && this.clientId !== undefined;
    const ws = new this.WebSocketImpl(this.socketUrl());
    this.skipResume = false;
    this.ws = ws;
    this.greeted = false;
    const resumeSent = resumed;
    ws.onmessage = (event) => {
      if (this.ws === ws) this.onMessage(typeof event.data === 'string' ? event.data : String(event.data), resumeSent);
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.detach();
      this.afterSocket(event.code, event.reason);
    };
    ws.onerror = () => undefined; // the close event that follows carries what we act on
    const timeoutMs = this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.connectTimer = setTimeout(() => {
      if (this.ws !== ws || this.greeted) return;
      // The server accepted the socket but never greeted it (a known gateway issue): drop it and retry.
      this.detach();
      ws.close(1000, 'no connected frame');
      this.afterSocket(1006, `no connected frame within ${timeoutMs} ms`);
    }, timeoutMs);
  }

  /** Forgets the current socket (its events are ignored from now on) and returns it. */
  private detach(): WebSocketLike | undefined {
    const ws = this.ws;
    this.ws = undefined;
    clearTimeout(this.connectTimer);
    clearInterval(this.pingTimer);
    if (ws) {
      ws.onmessage = null;
      ws.onclose = null;
    }
    return ws;
  }

  /** A socket ended: reconnect after the backoff when the code allows, else close for good. */
  private afterSocket(code: number, reason: string): void {
    this.failPending(new TaskpulseError('disconnected', `the connection closed (${code}) before the answer came`, { closeCode: code }), true);
    for (const sub of this.subscriptions.values()) {
      sub.settling = true;
      sub.repairing = false;
    }
    if (this.closedByUser) return;
    if (!shouldReconnect(code)) {
      const error = new TaskpulseError('closed', `the server closed the connection with ${code}${reason ? ` (${reason})` : ''}: not reconnecting`, { closeCode: code });
      for (const sub of this.subscriptions.values()) sub.failWaiters(error);
      this.setState({ state: 'closed', code, reason });
      this.emit('error', error);
      return;
    }
    this.attempt += 1;
    const delayMs = reconnectDelay(this.attempt, this.options.backoff, this.options.random);
    this.setState({ state: 'reconnecting', attempt: this.attempt, delayMs, code, reason });
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.counters.reconnects += 1;
      this.open();
    }, delayMs);
  }

  private onMessage(text: string, resumeSent: boolean): void {
    let frame: ServerFrame;
    try {
      frame = JSON.parse(text) as ServerFrame;
      if (typeof frame !== 'object' || frame === null || typeof frame.type !== 'string') throw new Error('not a frame object');
    } catch (error) {
      this.emit('error', new TaskpulseError('bad_frame', `the server sent a frame that is not a JSON frame object: ${(error as Error).message}`));
      return;
    }
    this.emit('frame', frame);
    switch (frame.type) {
      case 'connected':
        return this.onConnected(frame.payload, resumeSent);
      case 'progress':
      case 'status':
        return this.onTaskFrame(frame);
      case 'ack':
        return this.onAck(frame);
      case 'error':
        return this.onError(frame);
      default:
        return; // a frame type this client does not know yet: ignored, as unknown fields are
    }
  }

  private onConnected(payload: { client_id: string; user_id?: string; project_id?: string; restored_tasks?: string[] }, resumeSent: boolean): void {
    clearTimeout(this.connectTimer);
    const ids = this.options as { token?: string; userId?: string; projectId?: string };
    if (resumeSent && payload.restored_tasks === undefined && ids.token === undefined && (ids.userId !== undefined || ids.projectId !== undefined)) {
      // The session expired: an insecure resume URL then connects anonymously. Connect again with the ids.
      const ws = this.detach();
      ws?.close(1000, 'session expired; reconnecting with ids');
      this.skipResume = true;
      this.counters.reconnects += 1;
      this.open();
      return;
    }
    this.greeted = true;
    this.attempt = 0;
    this.clientId = payload.client_id;
    this.state = 'connected'; // before the subscribes below, which are sent only while connected
    for (const sub of this.subscriptions.values()) this.sendSubscribe(sub);
    for (const taskId of payload.restored_tasks ?? []) {
      if (!this.subscriptions.has(taskId)) this.send({ action: 'unsubscribe', task_id: taskId });
    }
    this.startPings();
    this.setState({ state: 'connected' });
    const event: ConnectedEvent = { clientId: payload.client_id };
    if (payload.user_id !== undefined) event.userId = payload.user_id;
    if (payload.project_id !== undefined) event.projectId = payload.project_id;
    if (payload.restored_tasks !== undefined) event.restoredTasks = payload.restored_tasks;
    this.emit('connected', event);
  }

  private onTaskFrame(frame: ServerFrame & { type: 'progress' | 'status' }): void {
    if ('scope' in frame) return this.emit('broadcast', frame);
    if (typeof frame.offset !== 'number' || typeof frame.epoch !== 'string') return; // not a task event
    const sub = this.subscriptions.get(frame.task_id);
    if (!sub) return;
    const verdict = sub.accept(frame, rethrow);
    if (verdict === 'duplicate') this.counters.duplicatesDropped += 1;
    else if (verdict === 'hole') this.repair(sub);
  }

  /** A hole in a live stream: subscribe again from the position held; the server replays what is missing. */
  private repair(sub: TaskSubscription): void {
    this.counters.holesRepaired += 1;
    sub.repairing = true;
    const requestId = this.newRequestId();
    sub.repairRequestId = requestId;
    this.send({ action: 'unsubscribe', task_id: sub.taskId, request_id: requestId });
    this.trackAction(requestId, 'unsubscribe', sub.taskId).catch(() => undefined); // a dropped connection resubscribes anyway
    this.sendSubscribe(sub);
  }

  private onAck(frame: AckFrame): void {
    const pending = frame.request_id === undefined ? undefined : this.pending.get(frame.request_id);
    if (pending) {
      this.pending.delete(frame.request_id!);
      clearTimeout(pending.timer);
      pending.resolve(frame);
    }
    if (frame.task_id === undefined) return;
    const sub = this.subscriptions.get(frame.task_id);
    if (!sub) return;
    if (frame.action === 'resync') sub.resynced(frame, rethrow);
    // The repair's unsubscribe is answered: the frames from here on are the replay of its subscribe.
    else if (frame.action === 'unsubscribe' && sub.repairing && frame.request_id === sub.repairRequestId) {
      sub.repairing = false;
      sub.settling = true;
    }
    // The ack of the newest subscribe, or the server's restore (no request_id).
    else if (frame.action === 'subscribe' && (frame.request_id === undefined || frame.request_id === sub.requestId)) sub.acknowledged(frame, rethrow);
  }

  private onError(frame: ErrorFrame): void {
    const { code, message, field } = frame.payload;
    const context: { taskId?: string; requestId?: string; field?: string } = {};
    if (frame.task_id !== undefined) context.taskId = frame.task_id;
    if (frame.request_id !== undefined) context.requestId = frame.request_id;
    if (field !== undefined) context.field = field;
    const error = new TaskpulseError(code, message, context);
    const pending = frame.request_id === undefined ? undefined : this.pending.get(frame.request_id);
    if (pending) {
      this.pending.delete(frame.request_id!);
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    const taskId = frame.task_id ?? pending?.taskId;
    const sub = taskId === undefined ? undefined : this.subscriptions.get(taskId);
    if (!sub) {
      if (!pending) this.emit('error', error);
      return;
    }
    const aboutSubscribe = pending === undefined ? frame.request_id === undefined : pending.action === 'subscribe';
    sub.failed(error, rethrow);
    if (!aboutSubscribe) return;
    if (FINAL_SUBSCRIBE_ERRORS.has(code)) this.subscriptions.delete(sub.taskId);
    else if (code === 'unavailable' || code === 'rate_limited' || code === 'internal') {
      setTimeout(() => {
        if (this.subscriptions.get(sub.taskId) === sub && this.state === 'connected') this.sendSubscribe(sub);
      }, RETRY_UNAVAILABLE_MS);
    }
  }

  private sendSubscribe(sub: TaskSubscription): void {
    if (this.state !== 'connected' || !this.ws) return; // sent by onConnected
    sub.settling = true;
    const requestId = this.newRequestId();
    sub.requestId = requestId;
    const position = sub.position();
    this.send({ action: 'subscribe', task_id: sub.taskId, request_id: requestId, ...(position ?? {}) });
    // Tracked so that an error frame for it finds its task; the subscription itself outlives a timeout.
    this.trackAction(requestId, 'subscribe', sub.taskId).catch(() => undefined);
  }

  private waitForAck(sub: TaskSubscription): Promise<SubscribeAck> {
    return new Promise((resolve, reject) => {
      const timeoutMs = this.actionTimeoutMs();
      const waiter = {
        resolve: (ack: SubscribeAck) => {
          clearTimeout(timer);
          resolve(ack);
        },
        reject: (error: TaskpulseError) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        sub.waiters.delete(waiter);
        reject(new TaskpulseError('timeout', `no ack for the subscribe to ${sub.taskId} within ${timeoutMs} ms`, { taskId: sub.taskId }));
      }, timeoutMs);
      sub.waiters.add(waiter);
    });
  }

  /** Sends an action with a request id; resolves with its ack, rejects with its error frame, a timeout or a disconnect. */
  private request(message: ClientMessage, taskId?: string): Promise<AckFrame> {
    if (this.state !== 'connected' || !this.ws) {
      return Promise.reject(new TaskpulseError('disconnected', `cannot send ${message.action}: not connected (${this.state})`, taskId === undefined ? {} : { taskId }));
    }
    const requestId = this.newRequestId();
    this.send({ ...message, request_id: requestId });
    return this.trackAction(requestId, message.action, taskId);
  }

  private trackAction(requestId: string, action: string, taskId?: string): Promise<AckFrame> {
    return new Promise((resolve, reject) => {
      const timeoutMs = this.actionTimeoutMs();
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new TaskpulseError('timeout', `no answer to ${action} within ${timeoutMs} ms`, { requestId, ...(taskId === undefined ? {} : { taskId }) }));
      }, timeoutMs);
      const entry: PendingAction = { action, resolve, reject, timer };
      if (taskId !== undefined) entry.taskId = taskId;
      this.pending.set(requestId, entry);
    });
  }

  /** Rejects pending actions; `keepSubscribes` leaves subscribes to their timeout (they are sent again on reconnect). */
  private failPending(error: TaskpulseError, keepSubscribes = false): void {
    for (const [requestId, pending] of this.pending) {
      if (keepSubscribes && pending.action === 'subscribe') continue;
      clearTimeout(pending.timer);
      this.pending.delete(requestId);
      pending.reject(error);
    }
  }

  private startPings(): void {
    const every = this.options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS;
    if (every <= 0) return;
    clearInterval(this.pingTimer);
    const ws = this.ws;
    this.pingTimer = setInterval(() => {
      this.ping().catch((error: unknown) => {
        // No answer in time from a socket that still looks open: the peer or the path is dead.
        if (this.ws === ws && error instanceof TaskpulseError && error.code === 'timeout') {
          this.detach();
          ws?.close(1000, 'ping timed out');
          this.afterSocket(1006, 'ping timed out');
        }
      });
    }, every);
  }

  private send(message: ClientMessage): void {
    if (this.ws && this.ws.readyState === OPEN) this.ws.send(JSON.stringify(message));
  }

  private newRequestId(): string {
    return `r${this.nextRequest++}`;
  }

  private setState(event: ConnectionStateEvent): void {
    this.state = event.state;
    this.emit('state', event);
  }

  private emit<K extends keyof ClientEvents>(event: K, value: ClientEvents[K]): void {
    this.events.emit(event, value, rethrow);
  }
}

/** A listener or handler threw: report it as an uncaught error on a later turn, never breaking the client's own loop. */
function rethrow(error: unknown): void {
  setTimeout(() => {
    throw error;
  }, 0);
}

/**
 * Connects to a taskpulse server: `url` is its base URL (`http://localhost:8080`) or WebSocket URL
 * (`ws://localhost:8080/api/v1/ws`); the identity is a token (jwt mode) or the guide's user and project ids.
 */
export function connect(url: string, options: ConnectOptions): TaskpulseClient {
  return new TaskpulseClient(url, options);
}
