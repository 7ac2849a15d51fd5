/**
 * One clock for every process of a run: CLOCK_MONOTONIC (process.hrtime), which the kernel shares across
 * processes on one machine. A sender writes its send time into the event's message as `@T<micros>;`; a
 * receiver finds it in the raw frame bytes without parsing the frame, so the latency is measured the same
 * way for our gateway, Socket.IO and the bare ceiling.
 */

/** Microseconds on the machine's monotonic clock. */
export function nowMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** The message text of a benchmark event sent at `sendMicros`. */
export function markedMessage(sendMicros: number): string {
  return `bench @T${sendMicros};`;
}

const MARK = Buffer.from('@T');

/** The send time written into a frame by `markedMessage`, or -1 when the frame carries none. */
export function readMark(frame: Buffer): number {
  const at = frame.indexOf(MARK);
  if (at < 0) return -1;
  let value = 0;
  let digits = 0;
  for (let i = at + 2; i < frame.length; i++) {
    const digit = frame[i]! - 48;
    if (digit < 0 || digit > 9) break;
    value = value * 10 + digit;
    digits++;
  }
  return digits > 0 ? value : -1;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
