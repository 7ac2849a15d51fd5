/**
 * `taskpulse tail`: follows one task with the client (so it reconnects and resumes like any client) and
 * prints it. People get the state, then a progress bar with step, message and ETA (redrawn in place on a
 * terminal, one line per change otherwise); `--json` prints each task frame as one JSON line. Ends when
 * the task does: 0 completed, 1 failed or cancelled; 2 when the server refuses (a bad token, a forbidden
 * task, a terminal close code).
 */
import WebSocket from 'ws';
import { idProblem } from '@taskpulse/protocol';
import { connect, type WebSocketConstructor } from '../client';
import { TaskpulseError } from '../errors';
import type { TaskView } from '../task-view';
import { formatDuration, progressLine } from './format';

export interface TailOptions {
  url: string;
  taskId: string;
  token?: string;
  userId?: string;
  projectId?: string;
  json: boolean;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

/** Follows the task until it ends; resolves with the exit code. */
export function tail(options: TailOptions): Promise<number> {
  const { out, err, taskId } = options;
  const problem = idProblem(taskId);
  if (problem !== null) {
    err.write(`taskpulse: task_id ${problem}\n`);
    return Promise.resolve(2);
  }
  const tty = (out as { isTTY?: boolean }).isTTY === true && !options.json;
  const WebSocketImpl = ((globalThis as { WebSocket?: unknown }).WebSocket ?? WebSocket) as WebSocketConstructor;
  let client;
  try {
    const identity = options.token !== undefined ? { token: options.token } : { userId: options.userId, projectId: options.projectId };
    client = connect(options.url, { ...identity, WebSocket: WebSocketImpl });
  } catch (error) {
    err.write(`taskpulse: ${(error as Error).message}\n`);
    return Promise.resolve(2);
  }
  const live = client;
  return new Promise<number>((resolve) => {
    let lastLine = '';
    let ticker: ReturnType<typeof setInterval> | undefined;
    const finish = (code: number) => {
      clearInterval(ticker);
      if (tty && lastLine !== '') out.write('\n');
      live.close();
      resolve(code);
    };
    const draw = (view: TaskView) => {
      if (options.json || view.progress === undefined) return;
      const line = progressLine(view);
      if (tty) out.write(`\r\x1b[2K${line}`);
      else if (line !== lastLine) out.write(`${line}\n`);
      lastLine = line;
    };
    live.on('state', (event) => {
      if (event.state === 'reconnecting' && !options.json) {
        if (tty && lastLine !== '') out.write('\n');
        lastLine = '';
        err.write(`taskpulse: connection lost (${event.code ?? '?'}${event.reason ? ` ${event.reason}` : ''}); reconnecting in ${formatDuration(event.delayMs ?? 0)}\n`);
      }
    });
    live.on('error', (error) => {
      err.write(`taskpulse: ${error.message}\n`);
      if (error.code === 'closed') finish(2);
    });
    const unsubscribe = live.subscribe(taskId, {
      progress: (frame) => {
        if (options.json) out.write(`${JSON.stringify(frame)}\n`);
      },
      status: (frame) => {
        if (options.json) out.write(`${JSON.stringify(frame)}\n`);
      },
      state: (view) => {
        if (!view.finished) return draw(view);
        draw(view);
        if (!options.json) {
          if (tty && lastLine !== '') out.write('\n');
          lastLine = '';
          const outcome = view.status === 'completed' ? JSON.stringify(view.result ?? null) : (view.error ?? '');
          const elapsed = view.elapsedMs();
          out.write(`${view.status}${outcome ? `: ${outcome}` : ''}${elapsed === undefined ? '' : ` (${formatDuration(elapsed)})`}\n`);
        }
        finish(view.status === 'completed' ? 0 : 1);
      },
      error: (error) => {
        err.write(`taskpulse: ${error.message}\n`);
        if (error.code !== 'timeout' && error.code !== 'unavailable' && error.code !== 'rate_limited') finish(2);
      },
      subscribed: (ack) => {
        if (options.json) return;
        const view = unsubscribe.view;
        if (view.status === undefined) err.write(`taskpulse: task ${taskId} has no events yet; waiting for it to start\n`);
        else if (!view.finished) out.write(`${taskId}: ${view.status}${ack.recovered === false && ack.restoredByServer ? ' (resumed from the current state)' : ''}\n`);
      },
    });
    unsubscribe.ready.catch((error: unknown) => {
      if (error instanceof TaskpulseError && error.code === 'timeout') err.write(`taskpulse: ${error.message}; still trying\n`);
    });
    // The ETA and elapsed time move between frames: redraw once a second on a terminal.
    if (tty) ticker = setInterval(() => {
      const view = live.view(taskId);
      if (view && !view.finished && view.status !== undefined) draw(view);
    }, 1000);
  });
}
