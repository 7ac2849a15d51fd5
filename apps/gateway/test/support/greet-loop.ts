/**
 * A bounded reproduction loop for the async-upgrade greeting bug (README, "Upgrades after an await"):
 * starts `gateways` fresh jwt-mode gateway processes one after the other on a private Redis, and on each
 * connects `connects` clients one at a time (kept open, so later upgrades can borrow a cork), each
 * expecting its `connected` frame within 3 s. Prints the tally of outcomes and the count of uWebSockets.js
 * "must be corked" warnings. Run: `npx tsx test/support/greet-loop.ts [connects=200] [gateways=1] [resume]`.
 */
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { SignJWT } from 'jose';
import { freePort, startRedisServer, startTsProcess } from '@taskpulse/testkit';

const mainFile = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const SECRET = 'greet-loop-secret-0123456789abcdef0123';
const ORIGIN = 'https://app.example';
const connects = Number(process.argv[2] ?? 200);
const gateways = Number(process.argv[3] ?? 1);
const resume = process.argv[4] === 'resume';

function token(sub: string): Promise<string> {
  return new SignJWT({ iss: 'i', aud: 'a', sub, project_id: 'p1', exp: Math.floor(Date.now() / 1000) + 60 })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(SECRET));
}

/** One connect: 'ok' once greeted, else what happened instead. */
function connectOnce(url: string, kept: WebSocket[]): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers: { origin: ORIGIN } });
    kept.push(ws);
    let opened = false;
    const timer = setTimeout(() => resolve(opened ? 'opened, never greeted' : 'never opened'), 3000);
    const done = (outcome: string) => {
      clearTimeout(timer);
      resolve(outcome);
    };
    ws.on('open', () => (opened = true));
    ws.on('message', (data) => {
      if ((JSON.parse(data.toString()) as { type?: string }).type === 'connected') done('ok');
    });
    ws.on('error', (error) => done(`error ${error.message}`));
    ws.on('close', (code) => done(opened ? `closed ${code} after open` : `closed ${code} before open`));
  });
}

const tally: Record<string, number> = {};
const redis = await startRedisServer();
try {
  for (let g = 0; g < gateways; g++) {
    const port = await freePort();
    const gateway = startTsProcess(mainFile, {
      REDIS_URL: redis.url,
      KEY_PREFIX: `greet${g}`,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      AUTH_MODE: 'jwt',
      JWT_SECRET: SECRET,
      JWT_ISSUER: 'i',
      JWT_AUDIENCE: 'a',
      ALLOWED_ORIGINS: ORIGIN,
    });
    const kept: WebSocket[] = [];
    try {
      await gateway.waitForOutput(/gateway listening on/);
      for (let i = 0; i < connects; i++) {
        const query = `token=${await token(`u${i}`)}${resume ? `&old_client_id=${'a'.repeat(32)}` : ''}`;
        const outcome = await connectOnce(`ws://127.0.0.1:${port}/api/v1/ws?${query}`, kept);
        tally[outcome] = (tally[outcome] ?? 0) + 1;
        if (outcome !== 'ok') console.log(`gateway ${g}, connect ${i}: ${outcome}`);
      }
      tally.warnings = (tally.warnings ?? 0) + (gateway.output().split('must be made from within a corked').length - 1);
    } finally {
      for (const ws of kept) ws.terminate();
      await gateway.kill();
    }
  }
} finally {
  await redis.stop();
}
console.log(JSON.stringify(tally));
