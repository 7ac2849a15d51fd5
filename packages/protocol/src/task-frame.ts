/**
 * The layout of task event frames and of the snapshot reads, in one place. The publisher encodes a task
 * frame once, as a template: literal texts with open slots for what only the engine knows when it stores
 * the event (the offset, the epoch, and snapshot fields the event leaves as they were). Every engine fills
 * the slots the same way (`fillTaskFrame`; the Redis engine's Lua does the same splice without knowing
 * any field name), so a new frame field is a change here and nowhere else.
 */

/** Snapshot fields, each kept as a JSON text; the order is the REST progress body's. */
export const SNAPSHOT_FIELDS = [
  'progress',
  'current_step',
  'total_steps',
  'completed_steps',
  'message',
  'status',
  'timestamp',
  'result',
  'error',
  'user_id',
  'project_id',
] as const;

export type SnapshotField = (typeof SNAPSHOT_FIELDS)[number];

/** Snapshot field values, each a JSON text. */
export type SnapshotTexts = Partial<Record<SnapshotField, string>>;

/**
 * The guide's progress payload after `task_id`, in wire order, with the JSON text a field takes when the
 * task never set it. Task frames, broadcasts and the REST progress body all lay it out from this list.
 */
export const PROGRESS_PAYLOAD: ReadonlyArray<readonly [SnapshotField, string]> = [
  ['progress', '0'],
  ['current_step', '""'],
  ['total_steps', '0'],
  ['completed_steps', '0'],
  ['message', '""'],
  ['status', '"running"'],
  ['timestamp', '""'],
];

/**
 * The guide's status payload after `task_id`, in wire order. Every status event sets or clears each of
 * these (encodeTaskEvent), so a status frame needs nothing from the stored snapshot; `optional` ones are
 * left out when the event clears them.
 */
const STATUS_PAYLOAD: ReadonlyArray<readonly [SnapshotField, 'required' | 'optional']> = [
  ['status', 'required'],
  ['result', 'optional'],
  ['error', 'optional'],
  ['timestamp', 'required'],
];

/** What an engine splices into a frame template: its position, or a snapshot field as stored after the event. */
export type FrameSlot =
  | { kind: 'offset' }
  | { kind: 'epoch' }
  /** The field's stored JSON text, or `fallback` when the task has none. */
  | { kind: 'field'; field: SnapshotField; fallback: string };

/** A frame with open slots: `texts[0] slot[0] texts[1] … slot[n-1] texts[n]`. */
export interface FrameTemplate {
  texts: string[];
  slots: FrameSlot[];
}

const json = JSON.stringify;

/** Builds a template from literal texts and slots, merging adjacent texts. */
class TemplateWriter {
  readonly texts: string[] = [''];
  readonly slots: FrameSlot[] = [];

  text(value: string): this {
    this.texts[this.texts.length - 1] += value;
    return this;
  }

  slot(slot: FrameSlot): this {
    this.slots.push(slot);
    this.texts.push('');
    return this;
  }

  done(): FrameTemplate {
    return { texts: this.texts, slots: this.slots };
  }
}

/**
 * The progress payload fields after `task_id`: a field the event sets goes in as it is; one it does not
 * becomes a slot for the stored value (`open`), or takes its fallback (a broadcast, which stores nothing).
 */
function writeProgressPayload(out: TemplateWriter, known: SnapshotTexts, open: boolean): void {
  for (const [field, fallback] of PROGRESS_PAYLOAD) {
    out.text(`,"${field}":`);
    const value = known[field];
    if (value !== undefined) out.text(value);
    else if (open) out.slot({ kind: 'field', field, fallback });
    else out.text(fallback);
  }
}

/**
 * The template of a task event frame. `set` is what the event writes into the snapshot; the epoch is
 * [a-z0-9] only, so the engine splices it in without escaping. Byte-level readers rely on the order:
 * `type` first (the gateway's conflation mark goes right after it), then `offset`, `epoch` and
 * `published_at` before `payload`, so that their first occurrence is the top-level one (frame-bytes.ts).
 * The Redis engine takes the offset and epoch slots first, in that order.
 */
export function taskFrameTemplate(
  frameType: 'progress' | 'status',
  taskId: string,
  set: SnapshotTexts,
  publishedAt: number,
): FrameTemplate {
  const tid = json(taskId);
  const out = new TemplateWriter()
    .text(`{"type":"${frameType}","task_id":${tid},"offset":`)
    .slot({ kind: 'offset' })
    .text(',"epoch":"')
    .slot({ kind: 'epoch' })
    .text(`","published_at":${publishedAt},"payload":{"task_id":${tid}`);
  if (frameType === 'progress') {
    writeProgressPayload(out, set, true);
  } else {
    for (const [field, presence] of STATUS_PAYLOAD) {
      const value = set[field];
      if (value !== undefined) out.text(`,"${field}":${value}`);
      else if (presence === 'required') throw new Error(`a status event must set ${field}`);
    }
  }
  return out.text('}}').done();
}

/** A broadcast frame (no offset: it is not a task event); absent fields take the progress payload's fallbacks. */
export function broadcastFrameText(scope: 'user' | 'project', taskId: string, values: SnapshotTexts, publishedAt: number): string {
  const tid = json(taskId);
  const out = new TemplateWriter().text(
    `{"type":"progress","task_id":${tid},"scope":"${scope}","published_at":${publishedAt},"payload":{"task_id":${tid}`,
  );
  writeProgressPayload(out, values, false);
  return out.text('}}').done().texts[0]!;
}

/**
 * Fills a template's slots: what every engine does with a frame, once the event is applied to `fields`
 * (the snapshot after the event). The Redis engine's publish script is this loop in Lua.
 */
export function fillTaskFrame(template: FrameTemplate, offset: number, epoch: string, fields: SnapshotTexts): string {
  let text = template.texts[0]!;
  template.slots.forEach((slot, i) => {
    if (slot.kind === 'offset') text += String(offset);
    else if (slot.kind === 'epoch') text += epoch;
    else text += fields[slot.field] ?? slot.fallback;
    text += template.texts[i + 1]!;
  });
  return text;
}

/**
 * The REST progress body (`GET /api/v1/progress/:task_id`): the progress payload with the same fallbacks
 * as frames, then the other snapshot fields that are present (result, error, owner), then the position.
 */
export function progressBodyText(taskId: string, offset: number, epoch: string, fields: SnapshotTexts): string {
  let body = `{"task_id":${json(taskId)}`;
  for (const [field, fallback] of PROGRESS_PAYLOAD) body += `,"${field}":${fields[field] ?? fallback}`;
  for (const field of SNAPSHOT_FIELDS) {
    const value = fields[field];
    if (value !== undefined && !PROGRESS_PAYLOAD.some(([name]) => name === field)) body += `,"${field}":${value}`;
  }
  return `${body},"offset":${offset},"epoch":${json(epoch)}}`;
}
