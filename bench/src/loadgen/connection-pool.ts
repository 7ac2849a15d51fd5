/**
 * The connections of one load-generator process and what they measure. A frame with a send mark takes
 * the fast path (find the mark in the bytes, record the latency); anything else goes to the wire's setup
 * logic. Nothing here parses an event frame.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import WebSocket from 'ws';
import { nowMicros, readMark } from '../clock';
import type { CollectResult, ConnectResult, LoadgenCommands, ProbeRow } from '../control/commands';
import { Histogram } from '../stats/histogram';
import { collectGarbage } from './collect-garbage';
import type { Wire } from './wire';

/** What to open, where, how many at once, and how long each may take: the connect command's arguments, with the wire resolved. */
export type ConnectOptions = Omit<LoadgenCommands['connect']['args'], 'wire'> & {
  wire: Wire;
  /** Stop opening new connections after this many failures. */
  maxFailures: number;
};

/** All connections of one load-generator process and their measurements. */
export class ConnectionPool {
  private sockets = new Set<WebSocket>();
  private closing = false;
  private lost = 0;
  private mode: 'stream' | 'probe' | 'off' = 'off';
  private start = 0;
  private end = 0;
  private latency = new Histogram();
  /** Per tenth of the window by send time: a tail confined to one part of the run shows there, not diluted. */
  private tenths = Array.from({ length: 10 }, () => new Histogram());
  private delivered = 0;
  private receivedInWindow = 0;
  private probes = new Map<number, ProbeRow>();
  /** Event-loop delay: a stalled client would show as server latency, so its stalls are reported. */
  private loopDelay = monitorEventLoopDelay({ resolution: 5 });

  constructor() {
    this.loopDelay.enable();
  }

  get open(): number {
    return this.sockets.size;
  }

  /** Opens the connections (at most `concurrency` handshakes in flight) and subscribes each to its tasks. */
  async connect(o: ConnectOptions): Promise<ConnectResult> {
    const t0 = performance.now();
    const errors: string[] = [];
    let next = 0;
    let opened = 0;
    let failed = 0;
    const stopAt = t0 + o.deadlineMs;
    const lane = async () => {
      while (next < o.conns.length && failed < o.maxFailures && performance.now() < stopAt) {
        const [node, user, project, tasks] = o.conns[next++]!;
        try {
          await this.openOne(o.wire, o.wire.url(o.nodes[node]!, user, project), tasks, o.localAddress, o.timeoutMs);
          opened++;
        } catch (error) {
          failed++;
          if (errors.length < 5) errors.push(error instanceof Error ? error.message : String(error));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, o.concurrency) }, lane));
    const elapsedMs = Math.round(performance.now() - t0);
    collectGarbage(); // the handshakes' garbage, collected now rather than inside a measured window
    failed += o.conns.length - next; // never attempted: too many failures or out of time
    if (next < o.conns.length && errors.length < 5) errors.push(`stopped opening after ${failed - (o.conns.length - next)} failures / ${elapsedMs} ms`);
    return { opened, failed, errors, elapsedMs };
  }

  private openOne(wire: Wire, url: string, tasks: string[], localAddress: string | undefined, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      // Same options for every system: no compression, no UTF-8 check (the mark is ASCII), so a frame
      // costs the client as little as the ws library allows.
      const ws = new WebSocket(url, {
        perMessageDeflate: false,
        skipUTF8Validation: true,
        handshakeTimeout: timeoutMs,
        ...(localAddress ? { localAddress } : {}),
      });
      let settled = false;
      const waiting = new Set(tasks);
      const refs = new Map<number, string>();
      const finish = (error?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) {
          ws.terminate();
          reject(new Error(error));
        } else {
          this.sockets.add(ws);
          resolve();
        }
      };
      const timer = setTimeout(() => finish(`no handshake and acks within ${timeoutMs} ms`), timeoutMs);
      const reply = (frame: string) => ws.send(frame);
      ws.on('message', (data: Buffer) => {
        const sent = readMark(data);
        if (sent >= 0) return this.onMarked(sent);
        const event = wire.control(data.toString(), reply);
        if (settled) return;
        if (event.kind === 'error') return finish(event.message);
        if (event.kind === 'ready') {
          if (waiting.size === 0) return finish();
          let ref = 1;
          for (const task of tasks) {
            refs.set(ref, task);
            ws.send(wire.subscribe(task, ref++));
          }
        } else if (event.kind === 'ack') {
          const task = event.taskId ?? (event.ref === undefined ? undefined : refs.get(event.ref));
          if (task !== undefined) waiting.delete(task);
          if (waiting.size === 0) finish();
        }
      });
      ws.on('error', (error) => finish(error.message));
      ws.on('close', (code) => {
        if (!settled) finish(`closed during setup (code ${code})`);
        else if (this.sockets.delete(ws) && !this.closing) this.lost++;
      });
    });
  }

  private onMarked(sent: number): void {
    if (this.mode === 'off') return;
    const received = nowMicros();
    if (received >= this.start && received <= this.end) this.receivedInWindow++;
    if (sent < this.start || sent > this.end) return;
    const latency = received - sent;
    this.latency.record(latency);
    if (this.mode === 'stream') this.tenths[Math.min(9, Math.floor(((sent - this.start) * 10) / Math.max(1, this.end - this.start)))]!.record(latency);
    this.delivered++;
    if (this.mode === 'probe') {
      const row = this.probes.get(sent);
      if (row) {
        row[1]++;
        if (latency > row[2]) row[2] = latency;
        if (latency < row[3]) row[3] = latency;
      } else this.probes.set(sent, [sent, 1, latency, latency]);
    }
  }

  /**
   * Starts counting marked frames sent in [start, end] (and received frames in it), from zero. A full
   * garbage collection first, so that one does not fall inside the window as a client stall.
   */
  measure(mode: 'stream' | 'probe' | 'off', start: number, end: number): void {
    if (mode !== 'off') collectGarbage();
    this.mode = mode;
    this.start = start;
    this.end = end;
    this.latency.reset();
    for (const tenth of this.tenths) tenth.reset();
    this.delivered = 0;
    this.receivedInWindow = 0;
    this.probes.clear();
    this.loopDelay.reset();
  }

  collect(): CollectResult {
    return {
      latency: this.latency.toJSON(),
      latencyTenths: this.mode === 'stream' ? this.tenths.map((h) => h.toJSON()) : [],
      delivered: this.delivered,
      receivedInWindow: this.receivedInWindow,
      probes: [...this.probes.values()],
      lost: this.lost,
      stallMs: Math.round(this.loopDelay.max / 1e5) / 10,
    };
  }

  /** Closes every connection at once and waits (bounded) until they are gone. */
  async closeAll(): Promise<number> {
    this.closing = true;
    const count = this.sockets.size;
    for (const ws of this.sockets) ws.terminate();
    const deadline = Date.now() + 10_000;
    while (this.sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.sockets.clear();
    this.closing = false;
    this.lost = 0;
    return count;
  }

  status(): { open: number; lost: number } {
    return { open: this.sockets.size, lost: this.lost };
  }
}
