/**
 * Subscriber decoders side by side: CPU per pub/sub message of one subscriber process, by client
 * (ioredis, @redis/client v5 with RESP3 and RESP2, a minimal RESP2 push decoder on a net.Socket, and a raw
 * socket that decodes nothing: the floor). Redis itself publishes (a Lua loop), so no publisher process
 * shares the machine; variants run interleaved, ROUNDS times, and the table gives each one's median and
 * its ratio to ioredis. Writes the table to stdout and, with --out=FILE, to FILE.
 *
 *   npx tsx bench/src/micro/subscriber-decoders.ts [--count=100000] [--rounds=3] [--out=bench/results/subscriber-decoders.md]
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { startRedisServer, startTsProcess } from '@taskpulse/testkit';
import { Redis } from 'ioredis';
import { median } from '../stats/median';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const count = Number(option('count', '100000'));
const rounds = Number(option('rounds', '3'));
const channelCount = Number(option('channels', '1000'));
const out = option('out', '');
/** Messages per second when paced (one PUBLISH per message from this process, 1 ms ticks); 0: Redis's Lua burst. */
const paced = Number(option('paced', '0'));
const variants = ['ioredis', 'redis-client-resp3', 'redis-client-resp2', 'minimal-resp2', 'raw-socket'];

// A frame of the size and shape the gateway relays (a progress frame, ~300 bytes).
const frame = JSON.stringify({
  type: 'progress',
  task_id: 'task-000123',
  offset: 42,
  epoch: 'mfx1a2b3c4d',
  payload: { progress: 42, current_step: 'encode', total_steps: 5, completed_steps: 2, message: 'encoding segment 42 of 100 at 1080p', status: 'running', timestamp: '2026-12-03T10:00:00.000Z' },
});
const channelOf = (i: number) => `tp:ch:${i}`;
const perMessageBytes = (i: number) => `*3\r\n$7\r\nmessage\r\n$${channelOf(i).length}\r\n${channelOf(i)}\r\n$${frame.length}\r\n${frame}\r\n`.length;
let expectedBytes = 0;
for (let i = 0; i < count; i++) expectedBytes += perMessageBytes(i % channelCount);

// Unlimited pub/sub output buffer: the subscriber may fall behind Redis's Lua loop without being cut off.
const server = await startRedisServer(['--client-output-buffer-limit', 'pubsub', '0', '0', '0']);
const redis = new Redis(server.url);
const PUBLISH = `for i = tonumber(ARGV[1]), tonumber(ARGV[2]) do redis.call('PUBLISH', 'tp:ch:' .. (i % tonumber(ARGV[3])), ARGV[4]) end`;

/** `count` PUBLISHes at `paced` per second: messages arrive a few at a time, as they do at a gateway. */
async function publishPaced(): Promise<void> {
  const start = performance.now();
  let sent = 0;
  while (sent < count) {
    const due = Math.min(count, Math.floor(((performance.now() - start) / 1000) * paced));
    for (; sent < due; sent++) void redis.publish(channelOf(sent % channelCount), frame);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

const results = new Map<string, number[]>(variants.map((v) => [v, []]));
try {
  for (let round = 1; round <= rounds; round++) {
    for (const variant of variants) {
      const child = startTsProcess(new URL('./subscriber-decoder-child.ts', import.meta.url).pathname, {
        VARIANT: variant,
        REDIS_URL: server.url,
        CHANNELS: String(channelCount),
        COUNT: String(count),
        EXPECTED_BYTES: String(expectedBytes),
      });
      try {
        await child.waitForOutput(/READY/, 30_000);
        if (paced > 0) await publishPaced();
        else for (let i = 0; i < count; i += 5000) await redis.eval(PUBLISH, 0, i, Math.min(count, i + 5000) - 1, channelCount, frame);
        const line = await child.waitForOutput(/RESULT .*/, 120_000);
        const r = JSON.parse(line.slice('RESULT '.length)) as { cpuMicros: number; received: number; wallMs: number };
        results.get(variant)!.push(r.cpuMicros / count);
        process.stdout.write(`round ${round} ${variant.padEnd(20)} ${(r.cpuMicros / count).toFixed(2)} µs/message (${r.received} messages, ${r.wallMs} ms)\n`);
      } finally {
        await child.stop(2000);
      }
    }
  }
} finally {
  redis.disconnect();
  await server.stop();
}

const base = median(results.get('ioredis')!);
const floor = median(results.get('raw-socket')!);
const lines = [
  `# Subscriber decoders: CPU per pub/sub message`,
  '',
  `${new Date().toISOString()}; ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}; \`npx tsx bench/src/micro/subscriber-decoders.ts --count=${count} --rounds=${rounds}${paced ? ` --paced=${paced}` : ''}\`.`,
  '',
  `One subscriber process on ${channelCount} channels receives ${count.toLocaleString('en')} messages of a ${frame.length}-byte progress frame, ${paced ? `published at ${paced.toLocaleString('en')} per second by the bench process (1 ms ticks), so they arrive a few per socket read, as at a gateway` : 'published by Redis itself (a Lua loop of PUBLISH), so no publisher process competes for the cores and they arrive in full 64 KB socket reads'}. CPU is the subscriber's own (process.cpuUsage, user + system, from its READY to its last message), the median of ${rounds} interleaved rounds; every variant looks the channel up in a Map and counts the frame, as the engine's registry does. The machine is shared: compare ratios within this run. "raw socket" reads the same bytes and decodes nothing: the kernel's and libuv's share, the floor of any decoder.`,
  '',
  '| subscriber | µs per message (median) | rounds | vs ioredis | decoding above the raw socket, µs |',
  '|---|---|---|---|---|',
  ...variants.map((v) => {
    const m = median(results.get(v)!);
    return `| ${v} | ${m.toFixed(2)} | ${results.get(v)!.map((x) => x.toFixed(2)).join(', ')} | ${(m / base).toFixed(2)}x | ${(m - floor).toFixed(2)} |`;
  }),
  '',
];
process.stdout.write(`\n${lines.join('\n')}\n`);
if (out) writeFileSync(out, `${lines.join('\n')}`);
