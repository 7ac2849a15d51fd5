/**
 * The test WebSocket client (the `ws` package) of every gateway, API and end-to-end test: keeps every frame
 * it receives and waits for the ones a test expects; `closeAllClients` closes what a test left open.
 */
import WebSocket from 'ws';
import { waitFor } from './wait-for';

export type Frame = Record<string, any>;

export interface TestClient {
  ws: WebSocket;
  frames: Frame[];
  clientId: string;
  /** Resolves with the close code and reason once the socket closed. */
  closed: Promise<{ code: number; reason: string }>;
  send(message: unknown): void;
  sendRaw(data: string | Buffer, binary?: boolean): void;
  /** The first frame matching, waiting up to `timeoutMs`. */
  next(match: (frame: Frame) => boolean, timeoutMs?: number): Promise<Frame>;
  /** Frames of one task (task events and their acks/errors), in arrival order. */
  taskFrames(taskId: string): Frame[];
  close(): Promise<void>;
}

const open = new Set<TestClient>();

/** Connects and waits for the `connected` frame; `options` go to the `ws` client (e.g. autoPong). */
export async function connectClient(url: string, options?: WebSocket.ClientOptions): Promise<TestClient> {
  const ws = new WebSocket(url, options);
  const frames: Frame[] = [];
  ws.on('message', (data) => frames.push(JSON.parse(data.toString())));
  ws.on('error', () => {}); // surfaced through `closed` and the waits; a test asserting on errors listens itself
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused with ${res.statusCode}`)));
  });
  const connected = await waitFor('connected frame', () => frames.find((f) => f.type === 'connected'), 5000, 5);
  const client: TestClient = {
    ws,
    frames,
    clientId: connected.payload.client_id,
    closed,
    send: (message) => ws.send(JSON.stringify(message)),
    sendRaw: (data, binary = false) => ws.send(data, { binary }),
    next: (match, timeoutMs = 5000) => waitFor('a matching frame', () => frames.find(match), timeoutMs, 5),
    taskFrames: (taskId) => frames.filter((f) => f.task_id === taskId),
    async close() {
      open.delete(client);
      if (ws.readyState === WebSocket.CLOSED) return;
      if (ws.readyState !== WebSocket.OPEN) ws.terminate();
      else ws.close();
      const done = await Promise.race([closed.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 1000))]);
      if (!done) ws.terminate();
    },
  };
  open.add(client);
  return client;
}

/** Closes every client a test left open. */
export async function closeAllClients(): Promise<void> {
  await Promise.all([...open].map((client) => client.close()));
}

/** The HTTP answer to an upgrade (with these headers): its status and body, 101 when accepted, 0 when nothing answered. */
export function upgradeAnswer(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.terminate();
      resolve({ status: 101, body: '' });
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => {
        ws.terminate();
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    ws.once('error', () => resolve({ status: 0, body: '' })); // no answer at all (refused, reset)
  });
}

/** The HTTP status and body of an upgrade that must be refused; rejects when it was accepted. */
export async function refusedUpgrade(url: string): Promise<{ status: number; body: string }> {
  const answer = await upgradeAnswer(url);
  if (answer.status === 101) throw new Error('the upgrade was accepted');
  return answer;
}
