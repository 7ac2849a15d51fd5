/**
 * Turns a thrown value into one line of failure text that keeps the whole cause chain, like Go's
 * `fmt.Errorf("…: %w", err)`: "video processing failed: ffmpeg exited 1: disk full". The user sees why a
 * task failed, not only the outermost wrapper.
 */
import { LIMITS } from '@taskpulse/protocol';

/** Deepest cause followed; deeper chains end in `…`. */
const MAX_DEPTH = 16;

/**
 * The error's message followed by each cause's (`: ` between), AggregateError members in `[a; b]`.
 * Cycles are cut, a cause already quoted in its wrapper's message is not repeated, and the text is
 * capped at LIMITS.errorChars. Never returns an empty string.
 */
export function describeError(error: unknown): string {
  const capped = capErrorText(describe(error, new Set(), 0).trim());
  return capped.length > 0 ? capped : 'unknown error';
}

/** Failure text cut to LIMITS.errorChars with a closing `…`: a failure is never refused for its length. */
export function capErrorText(text: string): string {
  return text.length > LIMITS.errorChars ? `${text.slice(0, LIMITS.errorChars - 1)}…` : text;
}

/** True for Error instances and error-like objects from other realms or libraries. */
export function isErrorLike(value: unknown): value is Error {
  return (
    value instanceof Error ||
    (typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string')
  );
}

function describe(error: unknown, seen: Set<object>, depth: number): string {
  if (!isErrorLike(error)) return describeValue(error);
  if (seen.has(error)) return '';
  if (depth >= MAX_DEPTH) return '…';
  seen.add(error);
  let text = error.message || error.name || 'Error';
  const members = (error as { errors?: unknown }).errors;
  if (Array.isArray(members) && members.length > 0) {
    const parts = members.map((member) => describe(member, seen, depth + 1)).filter((part) => part.length > 0);
    if (parts.length > 0) text += `: [${parts.join('; ')}]`;
  }
  const cause = (error as { cause?: unknown }).cause;
  if (cause !== undefined && cause !== null) {
    const rest = describe(cause, seen, depth + 1);
    // A wrapper that already quotes its cause ("x: ${cause.message}") would repeat it otherwise.
    if (rest.length > 0 && !text.endsWith(rest)) text += `: ${withoutQuotedHead(text, rest)}`;
  }
  return text;
}

/** When the wrapper's message already ends with the cause's own message, keep only the cause's causes. */
function withoutQuotedHead(text: string, rest: string): string {
  for (let cut = rest.indexOf(': '); cut > 0; cut = rest.indexOf(': ', cut + 2)) {
    if (text.endsWith(rest.slice(0, cut))) return rest.slice(cut + 2);
  }
  return rest;
}

function describeValue(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'object') {
    try {
      return JSON.stringify(value) ?? String(value);
    } catch {
      return String(value);
    }
  }
  return String(value);
}
