/**
 * The live dashboard at `/`, built on @taskpulse/client (bundled for the browser by the API at its first
 * request, see routes/demo-page-routes.ts). Tasks are those started from this page, those announced by a
 * project broadcast (a demo job's start is broadcast to its project), and those watched by id; the list is
 * kept in localStorage per project, so a reload subscribes again and shows the same state. Each task shows
 * its bar, step, message, elapsed time, ETA and status; "history" reads the REST history. The cluster panel
 * polls the REST stats. Query parameters: `user_id`, `project_id`, and `ws` (the gateway's URL when the
 * API that serves this page is not on the gateway's port). With AUTH_MODE=jwt, `#token=<jwt>` in the URL's
 * fragment (never sent to a server, so never in a log) is the identity for the WebSocket and the REST reads.
 */
import { connect, TaskpulseError, websocketUrl, type SubscribeAck, type TaskView, type TaskpulseClient } from '@taskpulse/client';

const params = new URLSearchParams(location.search);
const token = new URLSearchParams(location.hash.slice(1)).get('token') || undefined;
const userId = params.get('user_id') || 'user-123';
const projectId = params.get('project_id') || 'project-456';
/** REST reads carry the token in jwt mode (stats need an admin key and stay empty there). */
const readHeaders: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
const STORAGE_KEY = `taskpulse.dashboard.${projectId}`;
/** The server keeps at most 100 subscriptions per connection; the page follows fewer. */
const MAX_TASKS = 50;
const STATS_EVERY_MS = 3000;

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const notice = (text = '') => {
  $('notice').textContent = text;
};

interface Card {
  root: HTMLElement;
  unsubscribe: () => Promise<void>;
  view: TaskView;
  steps: string[];
  /** Acks seen: the first is the subscribe, later ones are resumes after a reconnect. */
  acks: number;
}
const cards = new Map<string, Card>();

function savedTaskIds(): string[] {
  try {
    const value = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '[]') as unknown;
    return Array.isArray(value) ? value.filter((id): id is string => typeof id === 'string') : [];
  } catch {
    return []; // an unreadable entry from an older page: start with an empty list
  }
}

function saveTaskIds(): void {
  // Newest first, as shown.
  const ids = [...$('tasks').querySelectorAll<HTMLElement>('.task')].map((el) => el.dataset.taskId!);
  localStorage.setItem(STORAGE_KEY, JSON.stringify(ids));
}

function socketUrl(): string {
  const ws = params.get('ws');
  if (ws !== null && !/^wss?:\/\//.test(ws)) notice('The ws parameter must be a ws:// or wss:// URL, e.g. ?ws=ws://localhost:8080/api/v1/ws');
  return ws !== null && /^wss?:\/\//.test(ws) ? ws : location.origin;
}

const client: TaskpulseClient = connect(socketUrl(), token === undefined ? { userId, projectId } : { token });
$('user').textContent = token === undefined ? userId : '…';
$('project').textContent = token === undefined ? projectId : '…';
// Who the server says we are (in jwt mode, the token's user and first project).
client.on('connected', (event) => {
  $('user').textContent = event.userId ?? '(none)';
  $('project').textContent = event.projectId ?? '(none)';
});
$('ws-url').textContent = websocketUrl(socketUrl()).href;

// Connection state, with a countdown while waiting to reconnect.
let countdown: number | undefined;
client.on('state', (event) => {
  const pill = $('conn');
  pill.dataset.state = event.state;
  clearInterval(countdown);
  const text = $('conn-text');
  if (event.state === 'connected') text.textContent = `connected · ${client.clientId?.slice(0, 8)}…`;
  else if (event.state === 'connecting') text.textContent = 'connecting…';
  else if (event.state === 'closed') text.textContent = `closed${event.code ? ` (${event.code}${event.reason ? ` ${event.reason}` : ''})` : ''}`;
  else {
    const until = Date.now() + (event.delayMs ?? 0);
    const paint = () => {
      text.textContent = `reconnecting in ${Math.max(0, Math.ceil((until - Date.now()) / 1000))} s (attempt ${event.attempt})`;
    };
    paint();
    countdown = window.setInterval(paint, 250);
  }
});
client.on('error', (error) => notice(error.message));
client.on('broadcast', (frame) => addTask(frame.task_id));

function addTask(taskId: string): void {
  if (cards.has(taskId)) return;
  if (cards.size >= MAX_TASKS) {
    const oldest = [...$('tasks').querySelectorAll<HTMLElement>('.task')].at(-1);
    if (oldest) forget(oldest.dataset.taskId!);
  }
  const root = ($('task-template') as HTMLTemplateElement).content.firstElementChild!.cloneNode(true) as HTMLElement;
  root.dataset.taskId = taskId;
  root.querySelector('.task-id')!.textContent = taskId;
  $('tasks').prepend(root);
  $('empty').hidden = true;
  const card: Card = { root, steps: [], acks: 0, unsubscribe: async () => undefined, view: undefined as unknown as TaskView };
  const unsubscribe = client.subscribe(taskId, {
    progress: (frame) => noteStep(card, frame.payload.current_step),
    state: () => paint(card),
    subscribed: (ack) => onSubscribed(card, ack),
    error: (error) => {
      root.querySelector('.resume')!.textContent = `error: ${error.code}`;
      if (error instanceof TaskpulseError && error.code !== 'timeout') notice(`${taskId}: ${error.message}`);
    },
  });
  card.unsubscribe = unsubscribe;
  card.view = unsubscribe.view;
  cards.set(taskId, card);
  root.querySelector('.forget')!.addEventListener('click', () => forget(taskId));
  root.querySelector('.history-toggle')!.addEventListener('click', () => void toggleHistory(card));
  saveTaskIds();
  paint(card);
}

function forget(taskId: string): void {
  const card = cards.get(taskId);
  if (!card) return;
  cards.delete(taskId);
  card.root.remove();
  void card.unsubscribe().catch((error: unknown) => notice(`${taskId}: ${(error as Error).message}`));
  $('empty').hidden = cards.size > 0;
  saveTaskIds();
}

function noteStep(card: Card, step: string): void {
  if (step !== '' && !card.steps.includes(step)) card.steps.push(step);
}

function onSubscribed(card: Card, ack: SubscribeAck): void {
  card.acks += 1;
  const resume = card.root.querySelector<HTMLElement>('.resume')!;
  if (card.acks === 1) {
    resume.dataset.kind = 'first';
    resume.textContent = 'subscribed';
  } else {
    resume.dataset.kind = ack.recovered ? 'exact' : 'state';
    resume.textContent = ack.recovered ? 'resumed exactly' : 'resumed from the current state';
  }
  // A late subscriber gets only the newest frames: the steps before and the start time come from history.
  if (card.acks === 1) void backfill(card);
}

interface HistoryItem {
  type: string;
  offset?: number;
  payload: { status?: string; current_step?: string; progress?: number; message?: string; error?: string; timestamp: string };
}

async function readHistory(taskId: string): Promise<HistoryItem[]> {
  const res = await fetch(`/api/v1/progress/${encodeURIComponent(taskId)}/history?limit=100`, { headers: readHeaders });
  if (res.status === 404) return [];
  if (!res.ok) throw new Error(`history of ${taskId}: HTTP ${res.status}`);
  return ((await res.json()) as { items: HistoryItem[] }).items;
}

async function backfill(card: Card): Promise<void> {
  let items: HistoryItem[];
  try {
    items = await readHistory(card.view.taskId);
  } catch (error) {
    notice((error as Error).message);
    return;
  }
  const oldestFirst = [...items].reverse();
  const steps: string[] = [];
  for (const item of oldestFirst) {
    if (item.type === 'progress' && item.payload.current_step) {
      if (!steps.includes(item.payload.current_step)) steps.push(item.payload.current_step);
    }
    if (item.type === 'status' && item.payload.status === 'running') card.view.startedAt = Date.parse(item.payload.timestamp);
  }
  for (const step of card.steps) if (!steps.includes(step)) steps.push(step);
  card.steps = steps;
  paint(card);
}

async function toggleHistory(card: Card): Promise<void> {
  const box = card.root.querySelector<HTMLElement>('.history')!;
  if (!box.hidden) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  box.textContent = 'loading…';
  try {
    const items = await readHistory(card.view.taskId);
    const table = document.createElement('table');
    table.innerHTML = '<thead><tr><th>time</th><th>offset</th><th>event</th><th>message</th></tr></thead>';
    const body = table.createTBody();
    for (const item of items) {
      const row = body.insertRow();
      const p = item.payload;
      const what = item.type === 'status' ? p.status ?? '' : `${p.progress ?? ''}% ${p.current_step ?? ''}`;
      for (const [text, cls] of [[new Date(p.timestamp).toLocaleTimeString(), ''], [String(item.offset ?? ''), ''], [what, ''], [p.message ?? p.error ?? '', 'msg']] as const) {
        const cell = row.insertCell();
        cell.textContent = text;
        if (cls) cell.className = cls;
      }
    }
    box.replaceChildren(table);
  } catch (error) {
    box.textContent = (error as Error).message;
  }
}

function duration(ms: number | undefined): string {
  if (ms === undefined) return '';
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;
}

function paint(card: Card): void {
  const { root, view } = card;
  const status = view.status ?? 'unknown';
  root.dataset.status = status;
  root.dataset.stepsSeen = String(card.steps.length);
  const badge = root.querySelector<HTMLElement>('.badge')!;
  badge.dataset.status = status;
  badge.textContent = view.status ?? 'waiting';
  const pct = Math.max(0, Math.min(100, view.progress ?? 0));
  root.querySelector<HTMLElement>('.fill')!.style.width = `${pct}%`;
  root.querySelector('.pct')!.textContent = `${Math.round(pct)}%`;
  root.querySelector('.step')!.textContent = view.step;
  root.querySelector('.message')!.textContent = view.message;
  const elapsed = view.elapsedMs();
  root.querySelector('.elapsed')!.textContent = elapsed === undefined ? '' : `elapsed ${duration(elapsed)}`;
  const eta = view.etaMs();
  root.querySelector('.eta')!.textContent = eta === undefined ? '' : `ETA ${duration(eta)}`;
  const chips = root.querySelector('.chips')!;
  if (chips.childElementCount !== card.steps.length) {
    chips.replaceChildren(
      ...card.steps.map((step, i) => {
        const chip = document.createElement('span');
        chip.className = 'chip';
        chip.textContent = `${i + 1} · ${step}`;
        return chip;
      }),
    );
  }
  const outcome = root.querySelector<HTMLElement>('.outcome')!;
  if (view.status === 'completed') {
    outcome.className = 'outcome result';
    outcome.textContent = JSON.stringify(view.result ?? null);
  } else if (view.status === 'failed' || view.status === 'cancelled') {
    outcome.className = 'outcome error';
    outcome.textContent = view.error ?? view.status;
  } else outcome.textContent = '';
  root.querySelector('.position')!.textContent = view.offset === undefined ? 'no events yet' : `offset ${view.offset} · epoch ${view.epoch}`;
}

async function startDemoJob(): Promise<void> {
  const button = $<HTMLButtonElement>('start');
  button.disabled = true;
  notice();
  try {
    const failAt = $<HTMLSelectElement>('outcome').value;
    const res = await fetch('/api/v1/demo/jobs', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...readHeaders },
      body: JSON.stringify({ user_id: userId, project_id: projectId, ...(failAt ? { fail_at_step: Number(failAt) } : {}) }),
    });
    const body = (await res.json()) as { task_id?: string; error?: { message: string } };
    if (!res.ok || body.task_id === undefined) throw new Error(body.error?.message ?? `HTTP ${res.status}`);
    addTask(body.task_id);
  } catch (error) {
    notice(`Could not start a demo job: ${(error as Error).message}`);
  } finally {
    button.disabled = false;
  }
}

async function refreshStats(): Promise<void> {
  const show = (id: string, value: unknown) => {
    $(id).textContent = typeof value === 'number' ? String(value) : '–';
  };
  try {
    const [ws, tasks] = await Promise.all([fetch('/api/v1/websocket/stats', { headers: readHeaders }), fetch('/api/v1/progress/stats', { headers: readHeaders })]);
    if (ws.ok) {
      const stats = (await ws.json()) as { total_clients: number; nodes: number; by_project: Record<string, number> };
      show('nodes', stats.nodes);
      show('clients', stats.total_clients);
      show('project-clients', stats.by_project[projectId] ?? 0);
    }
    if (tasks.ok) {
      const { by_status: byStatus } = (await tasks.json()) as { by_status: Record<string, number> };
      show('running', byStatus.running);
      show('completed', byStatus.completed);
      show('failed', byStatus.failed);
    }
  } catch {
    // The server is unreachable: the connection pill already says so; the numbers stay as they were.
  }
}

$('start').addEventListener('click', () => void startDemoJob());
$('drop').addEventListener('click', () => client.reconnect());
$('watch').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $<HTMLInputElement>('watch-id');
  const id = input.value.trim();
  if (!/^[A-Za-z0-9_.:@-]{1,128}$/.test(id)) return notice('A task id is 1-128 of A-Z a-z 0-9 _ . : @ -');
  notice();
  input.value = '';
  addTask(id);
});

for (const id of savedTaskIds().reverse()) addTask(id);
// Elapsed time and ETA move between frames.
window.setInterval(() => {
  for (const card of cards.values()) if (!card.view.finished && card.view.status !== undefined) paint(card);
}, 1000);
void refreshStats();
window.setInterval(() => void refreshStats(), STATS_EVERY_MS);
