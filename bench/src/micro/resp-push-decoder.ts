/**
 * A minimal RESP2 decoder for a subscriber connection: pub/sub `message` pushes take a fast path (byte
 * compare of the header, two lengths, the payload copied out once); anything else (subscribe confirmations,
 * pong, errors) is decoded generically and handed to `reply`.
 */

/** What the decoder hands on. */
export interface PushHandlers {
  message(channel: string, payload: Buffer): void;
  reply(value: RespValue): void;
}

/** A decoded RESP2 value. */
export type RespValue = Buffer | number | null | Error | RespValue[];

const MESSAGE_HEAD = Buffer.from('*3\r\n$7\r\nmessage\r\n');
const CR = 13;

/** `*3\r\n$7\r\nmessage\r\n` at `at`, compared byte by byte (cheaper than a native compare call). */
function isMessageHead(buf: Buffer, at: number): boolean {
  if (buf.length - at < MESSAGE_HEAD.length) return false;
  for (let i = 0; i < MESSAGE_HEAD.length; i++) if (buf[at + i] !== MESSAGE_HEAD[i]) return false;
  return true;
}

/** Feeds socket chunks in, calls the handlers per complete top-level value. */
export class RespPushDecoder {
  private buffer: Buffer = Buffer.alloc(0);
  private offset = 0;

  constructor(private readonly handlers: PushHandlers) {}

  push(chunk: Buffer): void {
    if (this.offset < this.buffer.length) {
      this.buffer = Buffer.concat([this.buffer.subarray(this.offset), chunk]);
    } else this.buffer = chunk;
    this.offset = 0;
    const buf = this.buffer;
    while (this.offset < buf.length) {
      const start = this.offset;
      if (isMessageHead(buf, start)) {
        if (!this.message(buf, start + MESSAGE_HEAD.length)) break;
        continue;
      }
      const end = this.value(buf, start);
      if (end < 0) break;
      this.offset = end;
      this.handlers.reply(this.last);
    }
  }

  private last: RespValue = null;

  /** `$n\r\nchannel\r\n$m\r\npayload\r\n` at `at`; false when incomplete. */
  private message(buf: Buffer, at: number): boolean {
    const channel = this.bulk(buf, at);
    if (channel < 0) return false;
    const channelStart = this.bulkStart;
    const channelEnd = this.bulkEnd;
    const payload = this.bulk(buf, channel);
    if (payload < 0) return false;
    this.offset = payload;
    // The payload is copied out: a frame may be kept (conflation, last frame) and must not pin the socket chunk.
    const payloadBytes = Buffer.allocUnsafe(this.bulkEnd - this.bulkStart);
    buf.copy(payloadBytes, 0, this.bulkStart, this.bulkEnd);
    this.handlers.message(buf.toString('utf8', channelStart, channelEnd), payloadBytes);
    return true;
  }

  private bulkStart = 0;
  private bulkEnd = 0;

  /** A bulk string at `at` (`$n\r\n...\r\n`); returns the offset after it, -1 when incomplete. */
  private bulk(buf: Buffer, at: number): number {
    if (at >= buf.length) return -1;
    let i = at + 1;
    let n = 0;
    while (i < buf.length && buf[i] !== CR) n = n * 10 + buf[i++]! - 48;
    if (i + 1 >= buf.length) return -1;
    this.bulkStart = i + 2;
    this.bulkEnd = this.bulkStart + n;
    return this.bulkEnd + 2 <= buf.length ? this.bulkEnd + 2 : -1;
  }

  /** Any RESP2 value at `at` into `last`; returns the offset after it, -1 when incomplete. */
  private value(buf: Buffer, at: number): number {
    const type = buf[at];
    const lineEnd = buf.indexOf('\r\n', at + 1);
    if (lineEnd < 0) return -1;
    const line = buf.toString('latin1', at + 1, lineEnd);
    switch (type) {
      case 43: // +
        this.last = Buffer.from(line, 'latin1');
        return lineEnd + 2;
      case 45: // -
        this.last = new Error(line);
        return lineEnd + 2;
      case 58: // :
        this.last = Number(line);
        return lineEnd + 2;
      case 36: {
        // $
        const n = Number(line);
        if (n < 0) {
          this.last = null;
          return lineEnd + 2;
        }
        const end = lineEnd + 2 + n;
        if (end + 2 > buf.length) return -1;
        this.last = Buffer.from(buf.subarray(lineEnd + 2, end));
        return end + 2;
      }
      case 42: {
        // *
        const n = Number(line);
        if (n < 0) {
          this.last = null;
          return lineEnd + 2;
        }
        const items: RespValue[] = [];
        let next = lineEnd + 2;
        for (let k = 0; k < n; k++) {
          next = this.value(buf, next);
          if (next < 0) return -1;
          items.push(this.last);
        }
        this.last = items;
        return next;
      }
      default:
        throw new Error(`not a RESP2 value: byte ${type} at ${at}`);
    }
  }
}
