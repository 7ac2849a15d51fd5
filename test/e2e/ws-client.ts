/** A test WebSocket client that keeps every frame it receives and waits for the ones a test expects. */
import WebSocket from 'ws';
import { waitFor } from '@taskpulse/testkit';

export interface TestClient {
  ws: WebSocket;
  frames: Array<Record<string, any>>;
  clientId: string;
  send(message: unknown): void;
  /** Resolves with the first received frame matching, waiting up to `timeoutMs`. */
  next(match: (frame: Record<string, any>) => boolean, timeoutMs?: number): Promise<Record<string, any>>;
  close(): Promise<void>;
}

/** Connects and waits for the `connected` frame. */
export async function connectClient(url: string): Promise<TestClient> {
  const ws = new WebSocket(url);
  const frames: Array<Record<string, any>> = [];
  ws.on('message', (data) => frames.push(JSON.parse(data.toString())));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused with ${res.statusCode}`)));
  });
  const connected = await waitFor('connected frame', () => frames.find((f) => f.type === 'connected'));
  return {
    ws,
    frames,
    clientId: connected.payload.client_id,
    send: (message) => ws.send(typeof message === 'string' ? message : JSON.stringify(message)),
    next: (match, timeoutMs = 5000) => waitFor('a matching frame', () => frames.find(match), timeoutMs),
    close: async () => {
      if (ws.readyState === WebSocket.CLOSED) return;
      const closed = new Promise((r) => ws.once('close', r));
      ws.close();
      await closed;
    },
  };
}
