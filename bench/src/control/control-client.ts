/**
 * A child's side of the control channel: dials CONTROL_URL with its name and answers commands with its
 * handlers. When the orchestrator goes away the child exits, so nothing outlives a run.
 */
import WebSocket from 'ws';
import type { CommandMap } from './commands';

/** One async handler per command of map `C`. */
export type Handlers<C extends CommandMap> = { [K in keyof C]: (args: C[K]['args']) => Promise<C[K]['result']> };

/** Connects and serves until the channel closes, then calls `onClose` (default: exit). */
export function serveControl<C extends CommandMap>(handlers: Handlers<C>, onClose: () => void = () => process.exit(0)): void {
  const base = process.env.CONTROL_URL;
  const name = process.env.CONTROL_NAME;
  if (!base || !name) throw new Error('CONTROL_URL and CONTROL_NAME must be set: this process is started by bench/src/run.ts');
  const socket = new WebSocket(`${base}?name=${encodeURIComponent(name)}`, { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
  socket.on('message', async (data) => {
    const { id, cmd, args } = JSON.parse(String(data)) as { id: number; cmd: string; args: unknown };
    const handler = (handlers as Record<string, ((a: unknown) => Promise<unknown>) | undefined>)[cmd];
    try {
      if (!handler) throw new Error(`unknown command ${cmd}`);
      const result = await handler(args);
      socket.send(JSON.stringify({ id, ok: true, result }));
    } catch (error) {
      socket.send(JSON.stringify({ id, ok: false, error: error instanceof Error ? error.stack ?? error.message : String(error) }));
    }
  });
  socket.on('close', onClose);
  socket.on('error', (error) => {
    process.stderr.write(`control channel: ${error.message}\n`);
  });
}
