/**
 * One subscriber under test (subscriber-decoders.ts starts it): subscribes to CHANNELS channels with the
 * client named by VARIANT, prints READY, and after COUNT pub/sub messages prints `RESULT {cpuMicros,...}`:
 * the process's CPU (user + system) from READY to the last message.
 */
import { connect } from 'node:net';
import { createClient } from '@redis/client';
import { Redis } from 'ioredis';
import { RespPushDecoder } from './resp-push-decoder';

const variant = process.env.VARIANT ?? 'ioredis';
const url = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const channels = Array.from({ length: Number(process.env.CHANNELS ?? 1000) }, (_, i) => `tp:ch:${i}`);
const count = Number(process.env.COUNT ?? 100_000);
const expectedBytes = Number(process.env.EXPECTED_BYTES ?? 0);

let received = 0;
let bytes = 0;
let cpu0 = process.cpuUsage();
let t0 = 0;
// What every variant does per message: look the channel up (the engine's registry is a Map) and touch the frame.
const registry = new Map(channels.map((c) => [c, 0]));
const finish = () => {
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(`RESULT ${JSON.stringify({ variant, received, bytes, cpuMicros: cpu.user + cpu.system, wallMs: Math.round(performance.now() - t0) })}\n`);
  process.exit(0);
};
const onMessage = (channel: string, payload: Buffer) => {
  registry.set(channel, (registry.get(channel) ?? 0) + 1);
  bytes += payload.length;
  if (++received === count) finish();
};
const ready = () => {
  cpu0 = process.cpuUsage();
  t0 = performance.now();
  process.stdout.write('READY\n');
};

if (variant === 'ioredis') {
  const redis = new Redis(url.toString(), { autoResubscribe: false });
  redis.on('messageBuffer', (channel: Buffer, frame: Buffer) => onMessage(channel.toString(), frame));
  await redis.subscribe(...channels);
  ready();
} else if (variant === 'redis-client-resp3') {
  const client = createClient({ url: url.toString(), RESP: 3 });
  await client.connect();
  // bufferMode: the listener gets Buffers, as the engine needs
  await client.subscribe(channels, (message: Buffer, channel: Buffer) => onMessage(channel.toString(), message), true);
  ready();
} else if (variant === 'redis-client-resp2') {
  const client = createClient({ url: url.toString(), RESP: 2 });
  await client.connect();
  await client.subscribe(channels, (message: Buffer, channel: Buffer) => onMessage(channel.toString(), message), true);
  ready();
} else if (variant === 'minimal-resp2' || variant === 'raw-socket') {
  const socket = connect({ host: url.hostname, port: Number(url.port) });
  let confirmed = 0;
  const decoder = new RespPushDecoder({
    message: onMessage,
    reply: () => {
      if (++confirmed === channels.length) ready();
    },
  });
  let rawReady = false;
  socket.on('data', (chunk: Buffer) => {
    if (variant === 'raw-socket' && rawReady) {
      // the floor: bytes counted, nothing decoded
      bytes += chunk.length;
      if (bytes >= expectedBytes) {
        received = count;
        finish();
      }
      return;
    }
    decoder.push(chunk);
    if (variant === 'raw-socket' && confirmed === channels.length) rawReady = true;
  });
  socket.write(`SUBSCRIBE ${channels.join(' ')}\r\n`);
} else throw new Error(`unknown VARIANT ${variant}`);
