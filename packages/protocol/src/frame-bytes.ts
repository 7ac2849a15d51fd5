/**
 * Node-only helpers that read a task frame's position straight from its bytes (the gateway's hot path).
 * Kept out of the package root so that browser code importing `@taskpulse/protocol` needs no Buffer.
 */
const OFFSET_MARK = Buffer.from(',"offset":');

/**
 * Reads the top-level offset of a task event frame without parsing it, or -1. Safe because a quote inside
 * a JSON string is always escaped, so `,"offset":` first occurs at the top level.
 */
export function readFrameOffset(frame: Uint8Array): number {
  const bytes = Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  const at = bytes.indexOf(OFFSET_MARK);
  if (at < 0) return -1;
  let value = 0;
  for (let i = at + OFFSET_MARK.length; i < bytes.length; i++) {
    const digit = bytes[i]! - 48;
    if (digit < 0 || digit > 9) return value;
    value = value * 10 + digit;
  }
  return -1;
}

const EPOCH_MARK = Buffer.from(',"epoch":"');

/**
 * Reads the top-level epoch of a task event frame without parsing it, or undefined. Safe for the same
 * reason as readFrameOffset, and because an epoch is [a-z0-9] only, so it ends at the next quote.
 */
export function readFrameEpoch(frame: Uint8Array): string | undefined {
  const span = epochSpan(frame);
  return span && span.bytes.toString('latin1', span.start, span.end);
}

/** Where the top-level epoch's characters lie in the frame (between its opening and closing quotes), or undefined. */
function epochSpan(frame: Uint8Array): { bytes: Buffer; start: number; end: number } | undefined {
  const bytes = Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  const at = bytes.indexOf(EPOCH_MARK);
  if (at < 0) return undefined;
  const start = at + EPOCH_MARK.length;
  const end = bytes.indexOf(0x22, start);
  return end < 0 ? undefined : { bytes, start, end };
}

/**
 * True when the frame's top-level epoch is `epoch`, compared in place: the same answer as
 * `readFrameEpoch(frame) === epoch` without making a string, for the gateway's per-frame position check.
 */
export function frameEpochIs(frame: Uint8Array, epoch: string): boolean {
  const span = epochSpan(frame);
  if (!span || span.end - span.start !== epoch.length) return false;
  // an epoch read by readFrameEpoch is latin1, one byte per char: compare char codes with bytes
  for (let i = 0; i < epoch.length; i++) if (span.bytes[span.start + i] !== epoch.charCodeAt(i)) return false;
  return true;
}

const PUBLISHED_AT_MARK = Buffer.from(',"published_at":');

/**
 * Reads the top-level `published_at` (ms since epoch, the publisher's clock) of a task or broadcast frame
 * without parsing it, or -1 when absent. Safe for the same reason as readFrameOffset: the field precedes
 * `payload`, so its first occurrence is the top-level one.
 */
export function readFramePublishedAt(frame: Uint8Array): number {
  const bytes = Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  const at = bytes.indexOf(PUBLISHED_AT_MARK);
  if (at < 0) return -1;
  let value = 0;
  let digits = 0;
  for (let i = at + PUBLISHED_AT_MARK.length; i < bytes.length; i++) {
    const digit = bytes[i]! - 48;
    if (digit < 0 || digit > 9) return digits > 0 ? value : -1;
    value = value * 10 + digit;
    digits += 1;
  }
  return -1;
}
