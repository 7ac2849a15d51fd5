/** The bench's minimal RESP2 push decoder: messages and replies, whatever the chunk boundaries. */
import { describe, expect, it } from 'vitest';
import { RespPushDecoder, type RespValue } from '../src/micro/resp-push-decoder';

const bulk = (s: string) => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
const message = (channel: string, payload: string) => `*3\r\n$7\r\nmessage\r\n${bulk(channel)}${bulk(payload)}`;

describe('RespPushDecoder', () => {
  it('decodes messages, confirmations and errors at every split point', () => {
    const stream = Buffer.from(
      `*3\r\n${bulk('subscribe')}${bulk('tp:ch:1')}:1\r\n` + message('tp:ch:1', '{"a":"ünï\\r\\n"}') + '-ERR nope\r\n' + message('tp:ch:ü', 'x'.repeat(300)) + '*2\r\n$4\r\npong\r\n$0\r\n\r\n',
    );
    for (let cut = 1; cut < stream.length; cut++) {
      const got: Array<[string, string]> = [];
      const replies: RespValue[] = [];
      const decoder = new RespPushDecoder({ message: (c, p) => got.push([c, p.toString()]), reply: (r) => replies.push(r) });
      decoder.push(stream.subarray(0, cut));
      decoder.push(stream.subarray(cut));
      expect(got, `cut ${cut}`).toEqual([
        ['tp:ch:1', '{"a":"ünï\\r\\n"}'],
        ['tp:ch:ü', 'x'.repeat(300)],
      ]);
      expect(replies.map((r) => (Array.isArray(r) ? r.map(String) : r instanceof Error ? r.message : r))).toEqual([['subscribe', 'tp:ch:1', '1'], 'ERR nope', ['pong', '']]);
    }
  });
});
