/**
 * The orchestrator's side of the control channel: a WebSocket server on 127.0.0.1 that load generators
 * and publishers dial into. Commands are request/response JSON; the traffic is a few messages per phase,
 * nothing next to what is measured.
 */
import { WebSocketServer, type WebSocket } from 'ws';
import type { CommandMap } from './commands';

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** A connected child process that takes commands of map `C`. */
export class ControlPeer<C extends CommandMap> {
  private nextId = 1;
  private pending = new Map<number, Pending>();

  constructor(
    readonly name: string,
    private socket: WebSocket,
  ) {
    socket.on('message', (data) => {
      const reply = JSON.parse(String(data)) as { id: number; ok: boolean; result?: unknown; error?: string };
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      clearTimeout(waiting.timer);
      if (reply.ok) waiting.resolve(reply.result);
      else waiting.reject(new Error(`${name}: ${reply.error}`));
    });
    socket.on('close', () => {
      for (const waiting of this.pending.values()) {
        clearTimeout(waiting.timer);
        waiting.reject(new Error(`${name} disconnected from the control channel`));
      }
      this.pending.clear();
    });
  }

  /** Runs a command in the child; rejects after `timeoutMs` so no phase can hang. */
  call<K extends keyof C & string>(cmd: K, args: C[K]['args'], timeoutMs = 60_000): Promise<C[K]['result']> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: ${cmd} took more than ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.socket.send(JSON.stringify({ id, cmd, args }));
    });
  }
}

/** Accepts control connections; children identify themselves with `?name=`. */
export class ControlHub {
  private sockets = new Map<string, WebSocket>();
  private waiters = new Map<string, (socket: WebSocket) => void>();

  private constructor(
    private server: WebSocketServer,
    readonly url: string,
  ) {
    server.on('connection', (socket, request) => {
      const name = new URL(request.url ?? '/', 'http://x').searchParams.get('name') ?? '?';
      this.sockets.set(name, socket);
      this.waiters.get(name)?.(socket);
      this.waiters.delete(name);
    });
  }

  static async start(): Promise<ControlHub> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    return new ControlHub(server, `ws://127.0.0.1:${port}/`);
  }

  /** Waits until the child called `name` has dialled in. */
  async peer<C extends CommandMap>(name: string, timeoutMs = 30_000): Promise<ControlPeer<C>> {
    const existing = this.sockets.get(name);
    const socket =
      existing ??
      (await new Promise<WebSocket>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name} did not dial the control channel in ${timeoutMs} ms`)), timeoutMs);
        this.waiters.set(name, (s) => {
          clearTimeout(timer);
          resolve(s);
        });
      }));
    return new ControlPeer<C>(name, socket);
  }

  /** Forgets a child (after it exited). */
  forget(name: string): void {
    this.sockets.get(name)?.terminate();
    this.sockets.delete(name);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets.values()) socket.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
