/**
 * Judges what the failure test's clients recorded against what the publishers published. Per client and
 * task, frames must run gap-free, duplicate-free and in order within an epoch, starting at offset 1
 * (clients subscribe before anything is published). A discontinuity is excused only where the server
 * said `recovered: false` for that task right around it (the two frames of the task before that notice,
 * where the state it sends goes, or the one right after it), or, for progress-only gaps, when the frame after the gap
 * says `"conflated":true` (the gateway conflated progress for a slow socket). Repeats are allowed only to clients of the killed gateway after their
 * reconnect (sessions are refreshed every SESSION_REFRESH_MS, so a restore can repeat about 1 s):
 * counted apart as redelivered_after_kill.
 */
import type { ClientEvent } from './recording-client';
import type { PublisherReport } from './publisher-process';

export interface ClientRecord {
  name: string;
  mode: 'restore' | 'resubscribe';
  tasks: string[];
  events: ClientEvent[];
  terminal: Map<string, string>;
  /** The connection number closed by the gateway kill, when this client was on the killed gateway. */
  killedConn?: number;
}

export interface Figures {
  published: number;
  delivered: number;
  /** Frames replayed on a later connection before its restore ack (the missed frames, sent on restore). */
  recovered: number;
  /** `recovered: false` notices received after the first subscribe. */
  told_not_recovered: number;
  conflated: number;
  duplicates: number;
  redelivered_after_kill: number;
  /** State frames resent with a `recovered: false` notice (not duplicates: the server said so). */
  state_resent: number;
  lost: number;
  /** Epoch changes seen by clients, and how many of them the server did not announce. */
  epoch_changes: number;
  untold_epoch_changes: number;
  terminal_missing: number;
  reconnects: number;
  /** Example problems, for the failure message. */
  problems: string[];
}

type Kind = 'start' | 'progress' | 'terminal';

/** Everything published per task: epoch → offset → kind. */
export function publishedIndex(reports: PublisherReport[]): Map<string, Map<string, Map<number, Kind>>> {
  const index = new Map<string, Map<string, Map<number, Kind>>>();
  for (const report of reports) {
    for (const [task, events] of Object.entries(report.published)) {
      const epochs = index.get(task) ?? new Map<string, Map<number, Kind>>();
      index.set(task, epochs);
      for (const [epoch, offset, kind] of events) {
        const offsets = epochs.get(epoch) ?? new Map<number, Kind>();
        epochs.set(epoch, offsets);
        offsets.set(offset, kind);
      }
    }
  }
  return index;
}

/** Judges every client against what the publishers confirmed. */
export function analyze(clients: ClientRecord[], reports: PublisherReport[]): Figures {
  const index = publishedIndex(reports);
  const terminalPlan: Record<string, string> = Object.assign({}, ...reports.map((r) => r.terminal));
  const figures: Figures = {
    published: reports.reduce((sum, r) => sum + Object.values(r.published).reduce((s, e) => s + e.length, 0), 0),
    delivered: 0,
    recovered: 0,
    told_not_recovered: 0,
    conflated: 0,
    duplicates: 0,
    redelivered_after_kill: 0,
    state_resent: 0,
    lost: 0,
    epoch_changes: 0,
    untold_epoch_changes: 0,
    terminal_missing: 0,
    reconnects: 0,
    problems: [],
  };
  const problem = (text: string) => {
    if (figures.problems.length < 20) figures.problems.push(text);
  };

  for (const client of clients) {
    figures.reconnects += client.events.filter((e) => e.k === 'close').length;
    for (const task of client.tasks) {
      const planned = terminalPlan[task];
      const got = client.terminal.get(task);
      if (!got || (planned && got !== planned)) {
        figures.terminal_missing++;
        problem(`${client.name}: ${task} terminal status ${got ?? 'missing'}, published ${planned ?? 'none'}`);
      }
      judgeTask(client, task, index.get(task) ?? new Map(), figures, problem);
    }
  }
  return figures;
}

function judgeTask(
  client: ClientRecord,
  task: string,
  published: Map<string, Map<number, Kind>>,
  figures: Figures,
  problem: (text: string) => void,
): void {
  const frames: Array<Extract<ClientEvent, { k: 'frame' }>> = [];
  /** Positions of `recovered: false` notices: how many of the task's frames preceded each. */
  const notices: number[] = [];
  const ackedOn = new Set<number>();
  for (const event of client.events) {
    if (event.k === 'frame' && event.task === task) {
      frames.push(event);
      figures.delivered++;
      if (event.conn > 1 && !ackedOn.has(event.conn)) figures.recovered++;
    } else if (event.k === 'told' && event.task === task) {
      notices.push(frames.length);
      figures.told_not_recovered++;
    } else if (event.k === 'restored' && event.task === task) {
      ackedOn.add(event.conn);
    }
  }
  // The state (newest status and progress frames) precedes its notice; one frame after it is allowed for a notice sent first.
  const excused = (j: number) => notices.some((p) => j >= p - 2 && j <= p);
  const seen = new Set<string>();
  let epoch: string | undefined;
  let last = 0;
  for (const [j, f] of frames.entries()) {
    const key = `${f.epoch}:${f.offset}`;
    if (seen.has(key)) {
      if (excused(j)) figures.state_resent++;
      else if (client.killedConn !== undefined && f.conn > client.killedConn) figures.redelivered_after_kill++;
      else {
        figures.duplicates++;
        problem(`${client.name}: ${task} duplicate offset ${f.offset} (epoch ${f.epoch}) on connection ${f.conn}`);
      }
      continue;
    }
    seen.add(key);
    if (epoch !== undefined && f.epoch !== epoch) {
      figures.epoch_changes++;
      if (!excused(j)) {
        figures.untold_epoch_changes++;
        problem(`${client.name}: ${task} epoch changed ${epoch} → ${f.epoch} at offset ${f.offset} without recovered:false`);
      }
      epoch = f.epoch;
      last = 0;
    }
    epoch ??= f.epoch;
    if (f.offset === last + 1) {
      last = f.offset;
      continue;
    }
    if (f.offset < last) {
      if (!excused(j)) {
        figures.duplicates++;
        problem(`${client.name}: ${task} offset ${f.offset} after ${last} (out of order)`);
      }
      continue;
    }
    // A gap: offsets last+1 .. f.offset-1 of this epoch never arrived.
    const missing = f.offset - last - 1;
    if (!excused(j)) {
      const kinds = published.get(f.epoch);
      let progressOnly = true;
      for (let o = last + 1; o < f.offset; o++) if (kinds?.get(o) !== 'progress') progressOnly = false;
      if (f.conflated && f.type === 'progress' && progressOnly) figures.conflated += missing;
      else {
        figures.lost += missing;
        problem(`${client.name}: ${task} gap ${last + 1}..${f.offset - 1} (epoch ${f.epoch}, connection ${f.conn})`);
      }
    }
    last = f.offset;
  }
  // Frames published after the last one received never arrived (the terminal check names the task too).
  const finalEpoch = epoch ?? [...published.keys()][0];
  const offsets = finalEpoch === undefined ? undefined : published.get(finalEpoch);
  const newest = offsets ? Math.max(0, ...offsets.keys()) : 0;
  if (newest > last) {
    figures.lost += newest - last;
    problem(`${client.name}: ${task} frames ${last + 1}..${newest} (epoch ${finalEpoch}) never arrived`);
  }
}

/** The figures as a fixed-width table for the test output. */
export function formatFigures(title: string, figures: Figures): string {
  const rows = Object.entries(figures).filter(([k]) => k !== 'problems');
  const width = Math.max(...rows.map(([k]) => k.length));
  return [`── ${title}`, ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${String(v).padStart(9)}`)].join('\n');
}
