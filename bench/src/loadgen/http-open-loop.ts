/**
 * An open-loop HTTP load generator (S4 fixed rate): GET requests are due at a fixed rate whatever the
 * server's answers do, so a slow response cannot slow the offered load (no coordinated omission). Each
 * request's latency runs from its scheduled send time (not from the 1 ms tick that got round to it) to its
 * last response byte: time waiting for the client's own tick or a free keep-alive connection counts, and
 * nothing is dropped. The client's own stalls are reported beside it (tick lateness, event-loop delay and
 * GC over the window) so a tail can be told apart as the client's or the server's. Several of these
 * processes may share one rate (PHASE spreads their due times). Raw HTTP/1.1 on net.Sockets with
 * a minimal parser (Content-Length or chunked bodies; chunk data must not hold a raw CRLF, true of JSON),
 * so the client costs little per request next to the API it measures.
 *
 * Environment: TARGET_URL, PATHS (JSON array, rotated), RATE (req/s), SECONDS, WARMUP_SECONDS,
 * MAX_SOCKETS, DRAIN_SECONDS, LINGER_SECONDS, PHASE (0..1: this process's due times are shifted by PHASE / RATE). Prints `MEASURING` when the warm-up ends and one `RESULT {json}` line.
 */
import { connect, type Socket } from 'node:net';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { Histogram } from '../stats/histogram';

const url = new URL(process.env.TARGET_URL ?? 'http://127.0.0.1:3000');
const paths = JSON.parse(process.env.PATHS ?? '["/"]') as string[];
const rate = Number(process.env.RATE ?? 1000);
const seconds = Number(process.env.SECONDS ?? 5);
const warmupSeconds = Number(process.env.WARMUP_SECONDS ?? 1);
const maxSockets = Number(process.env.MAX_SOCKETS ?? 256);
const drainSeconds = Number(process.env.DRAIN_SECONDS ?? 2);
const phase = Number(process.env.PHASE ?? 0);

const requests = paths.map((p) => Buffer.from(`GET ${p} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: keep-alive\r\n\r\n`));
const HEADER_END = Buffer.from('\r\n\r\n');
const LENGTH = /\r\ncontent-length:\s*(\d+)/i;
const CHUNKED = /\r\ntransfer-encoding:\s*chunked/i;
const LAST_CHUNK = Buffer.from('\r\n0\r\n\r\n');

/** A due request: when it was due (ms, performance.now; its latency counts from here) and which path. */
interface Due {
  at: number;
  path: number;
}

const latency = new Histogram();
let measureFrom = Number.POSITIVE_INFINITY;
let measureTo = Number.POSITIVE_INFINITY;
let completedInWindow = 0;
let non2xx = 0;
let errors = 0;
let firstError = '';
let opened = 0;
const queue: Due[] = [];
let queueHead = 0;
const idle: Conn[] = [];

function done(due: Due, status: number): void {
  const end = performance.now();
  if (status < 200 || status >= 300) non2xx++;
  if (due.at >= measureFrom && due.at < measureTo) {
    completedInWindow++;
    if (status >= 200 && status < 300) latency.record((end - due.at) * 1000);
  }
}

/** One keep-alive connection: one request in flight at a time (no pipelining). */
class Conn {
  private buffer: Buffer = Buffer.alloc(0);
  private current: Due | null = null;
  private readonly socket: Socket;

  constructor() {
    opened++;
    this.socket = connect({ host: url.hostname, port: Number(url.port), noDelay: true });
    this.socket.on('connect', () => this.next());
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (error) => {
      errors++;
      firstError ||= error.message;
    });
    this.socket.on('close', () => {
      opened--;
      const i = idle.indexOf(this);
      if (i >= 0) idle.splice(i, 1);
      if (this.current) {
        errors++;
        this.current = null;
      }
      if (queueHead < queue.length && opened < maxSockets) new Conn();
    });
  }

  send(due: Due): void {
    this.current = due;
    this.socket.write(requests[due.path]!);
  }

  /** Takes the oldest waiting request, or parks as idle. */
  next(): void {
    if (queueHead < queue.length) {
      this.send(queue[queueHead++]!);
      if (queueHead > 4096 && queueHead * 2 > queue.length) {
        queue.splice(0, queueHead);
        queueHead = 0;
      }
    } else idle.push(this);
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      const end = this.buffer.indexOf(HEADER_END);
      if (end < 0) return;
      const head = this.buffer.toString('latin1', 0, end);
      let total: number;
      if (CHUNKED.test(head)) {
        // the body ends with the zero-length chunk; searching from the header's own CRLF finds an empty body too
        const last = this.buffer.indexOf(LAST_CHUNK, end + 2);
        if (last < 0) return;
        total = last + LAST_CHUNK.length;
      } else total = end + 4 + Number(LENGTH.exec(head)?.[1] ?? 0);
      if (this.buffer.length < total) return;
      const status = Number(head.slice(9, 12));
      this.buffer = this.buffer.subarray(total);
      const due = this.current;
      this.current = null;
      if (due) done(due, status);
      this.next();
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Hands a due request to an idle connection, a new one, or the queue. */
function issue(due: Due): void {
  const conn = idle.pop();
  if (conn) conn.send(due);
  else {
    queue.push(due);
    if (opened < maxSockets) new Conn();
  }
}

// The client's own stalls over the window: event-loop delay (1 ms resolution) and GC pauses.
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
let gcMs = 0;
let gcCount = 0;
const gcObserver = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.startTime >= measureFrom && entry.startTime < measureTo) {
      gcMs += entry.duration;
      gcCount++;
    }
  }
});
gcObserver.observe({ entryTypes: ['gc'] });

const start = performance.now();
measureFrom = start + warmupSeconds * 1000;
measureTo = measureFrom + seconds * 1000;
let issued = 0;
let announced = false;
/** Longest delay between a request's due time and this client's 1 ms tick issuing it (the client's own lateness). */
let clientLagMs = 0;
await new Promise<void>((resolve) => {
  const tick = () => {
    const now = performance.now();
    if (!announced && now >= measureFrom) {
      announced = true;
      loopDelay.enable();
      process.stdout.write('MEASURING\n');
    }
    const until = Math.min(now, measureTo);
    for (;;) {
      const at = start + ((issued + phase) / rate) * 1000;
      if (at > until) break;
      if (at >= measureFrom) clientLagMs = Math.max(clientLagMs, now - at);
      issue({ at, path: issued % requests.length });
      issued++;
    }
    if (now >= measureTo) {
      loopDelay.disable();
      resolve();
    }
    // 1 ms ticks: due requests go out in small bursts; a busy loop would take a core from the API it measures.
    else setTimeout(tick, 1);
  };
  tick();
});
// Requests still unanswered after the drain are counted as not served (their latency is at least this long).
const drainEnd = performance.now() + drainSeconds * 1000;
while (performance.now() < drainEnd && (queueHead < queue.length || idle.length < opened)) await new Promise((r) => setTimeout(r, 10));
const unanswered = queue.length - queueHead + (opened - idle.length);
for (const conn of [...idle]) conn.close();
process.stdout.write(
  `RESULT ${JSON.stringify({
    offered: rate,
    served: Math.round(completedInWindow / seconds),
    latency: latency.toJSON(),
    non2xx,
    errors,
    unanswered,
    sockets: opened,
    clientLagMs: Math.round(clientLagMs * 10) / 10,
    // the histogram records the whole 1 ms sampling interval: the delay is what lies beyond it
    loopDelayP99Ms: Math.max(0, Math.round((loopDelay.percentile(99) - 1e6) / 1e4) / 100),
    loopDelayMaxMs: Math.max(0, Math.round((loopDelay.max - 1e6) / 1e4) / 100),
    gcMs: Math.round(gcMs * 10) / 10,
    gcCount,
    ...(firstError ? { firstError } : {}),
  })}\n`,
);
// Stay (idle) until the orchestrator stops us, at most LINGER_SECONDS: its CPU meter reads this process's
// tree at the end of the window, and an exited process would take its CPU time out of that reading.
setTimeout(() => process.exit(0), Number(process.env.LINGER_SECONDS ?? 10) * 1000);
