/**
 * The gateway process (main.ts) in AUTH_MODE=jwt: every bad token refused at upgrade with 401 and its
 * reason (and counted), identity only from the token, per-task authorization with one answer for foreign
 * and unknown tasks, origins, expiry with 4502 unless refreshed, and resume bound to the token's sub.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { generateKeyPair, SignJWT } from 'jose';
import { freePort, startTsProcess, waitFor, type ManagedProcess, closeAllClients, connectClient, refusedUpgrade, upgradeAnswer, type TestClient } from '@taskpulse/testkit';
import { openEngine, uniquePrefix } from '@taskpulse/testkit/engines';
import type { Engine } from '@taskpulse/engine';
import { createReporter } from '@taskpulse/reporter';
import { progress, publish } from './support/engines';

const mainFile = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const SECRET = 'jwt-gateway-test-secret-0123456789abcdef';
const ISSUER = 'https://issuer.test';
const AUDIENCE = 'taskpulse';
const ORIGIN = 'https://app.example';

let gateway: ManagedProcess;
let engine: Engine;
let port = 0;

const seconds = () => Math.floor(Date.now() / 1000);
const wsUrl = (query = '') => `ws://127.0.0.1:${port}/api/v1/ws${query ? `?${query}` : ''}`;

/** An HS256 token with the test issuer and audience, for `sub`, valid 60 s unless `claims` say otherwise. */
function token(claims: Record<string, unknown>, key: Uint8Array = new TextEncoder().encode(SECRET)): Promise<string> {
  return new SignJWT({ iss: ISSUER, aud: AUDIENCE, exp: seconds() + 60, ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(key);
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function refusals(): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/^taskpulse_gateway_auth_refusals_total\{reason="([a-z_]+)"\} (\d+)$/gm)) counts[match[1]!] = Number(match[2]);
  return counts;
}

async function subscribeAnswer(client: TestClient, taskId: string) {
  const requestId = `r-${Math.random()}`;
  client.send({ action: 'subscribe', task_id: taskId, request_id: requestId });
  return client.next((f) => f.request_id === requestId);
}

beforeAll(async () => {
  const prefix = uniquePrefix();
  // A free port can be taken by another process before the gateway binds it (the gateway then exits with a
  // listen error, as it binds exclusively): try another port, at most three times.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    gateway = startTsProcess(mainFile, {
      REDIS_URL: inject('redisUrl'),
      KEY_PREFIX: prefix,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      AUTH_MODE: 'jwt',
      JWT_SECRET: SECRET,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      ALLOWED_ORIGINS: ORIGIN,
    });
    try {
      await gateway.waitForOutput(/gateway listening on/);
      break;
    } catch (error) {
      await gateway.kill();
      if (attempt === 3 || !/could not listen/.test(gateway.output())) throw error;
    }
  }
  engine = await openEngine('redis', prefix);
  await waitFor('ready', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200);
});

afterEach(async (context) => {
  // A failure here is about a separate process: show what it said.
  if (context.task.result?.state === 'fail') process.stderr.write(`gateway output (exit ${gateway.child.exitCode}):\n${gateway.output()}\n`);
  await closeAllClients();
});

afterAll(async () => {
  await gateway?.stop(5000);
  await engine?.close();
});

// Retried: a fresh jwt gateway process sometimes never greets one of its first connections (open, then no
// `connected` frame); an open bug in the async-upgrade path (uWebSockets.js), see the README's known issues.
describe('jwt mode: the upgrade', { retry: 2 }, () => {
  it('refuses every bad token with 401 and its reason, and counts each reason', async () => {
    const before = await refusals();
    const rsa = await generateKeyPair('RS256');
    const sub = { sub: 'user-a' };
    const cases: Array<[string, string | undefined, string]> = [
      ['no token', undefined, 'missing'],
      ['not a JWT', 'garbage', 'malformed'],
      ['expired', await token({ ...sub, exp: seconds() - 120 }), 'expired'],
      // Inside the verifier's clock tolerance, but a connection would be closed at once: refused instead.
      ['expired a second ago', await token({ ...sub, exp: seconds() - 1 }), 'expired'],
      ['not yet valid', await token({ ...sub, nbf: seconds() + 600 }), 'not_yet_valid'],
      ['other secret', await token(sub, new TextEncoder().encode('another-secret-that-is-32-bytes-long!')), 'bad_signature'],
      ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...sub, iss: ISSUER, aud: AUDIENCE, exp: seconds() + 60 })}.`, 'bad_algorithm'],
      ['RS256 where HS256 is configured', await new SignJWT({ ...sub, iss: ISSUER, aud: AUDIENCE, exp: seconds() + 60 }).setProtectedHeader({ alg: 'RS256' }).sign(rsa.privateKey), 'bad_algorithm'],
      ['wrong issuer', await token({ ...sub, iss: 'https://evil.test' }), 'bad_issuer'],
      ['wrong audience', await token({ ...sub, aud: 'someone-else' }), 'bad_audience'],
      ['no sub', await token({}), 'bad_claims'],
      ['bad projects claim', await token({ ...sub, projects: ['ok', 'not ok'] }), 'bad_claims'],
    ];
    const expected: Record<string, number> = {};
    for (const [name, bad, reason] of cases) {
      const answer = await refusedUpgrade(wsUrl(bad === undefined ? '' : `token=${encodeURIComponent(bad)}`));
      expect([name, answer.status]).toEqual([name, 401]);
      const body = JSON.parse(answer.body);
      expect([name, body.error.code, body.error.reason]).toEqual([name, 'unauthorized', reason]);
      expect(typeof body.error.message).toBe('string');
      if (bad) expect(answer.body).not.toContain(bad);
      expected[reason] = (expected[reason] ?? 0) + 1;
    }
    // The same check on the Authorization header.
    const header = await upgradeAnswer(wsUrl(), { authorization: `Bearer ${await token({ ...sub, exp: seconds() - 120 })}` });
    expect(header.status).toBe(401);
    expect(JSON.parse(header.body).error.reason).toBe('expired');
    expected.expired! += 1;
    const after = await refusals();
    for (const [reason, count] of Object.entries(expected)) expect([reason, (after[reason] ?? 0) - (before[reason] ?? 0)]).toEqual([reason, count]);
  });

  it('connects with a good token from the query or the Authorization header; the identity is the token’s', async () => {
    const client = await connectClient(wsUrl(`token=${await token({ sub: 'user-a', project_id: 'proj-a', projects: ['proj-extra'] })}`));
    const connected = client.frames.find((f) => f.type === 'connected')!;
    expect(connected.payload).toMatchObject({ user_id: 'user-a', project_id: 'proj-a' });
    // Broadcasts reach it for its user and for every project of the token.
    const reporter = createReporter(engine);
    const extraProject = uniquePrefix();
    await waitFor('the project channel live', async () => (await reporter.broadcastToProject('proj-extra', extraProject, { progress: 5 })) > 0);
    await client.next((f) => f.scope === 'project' && f.task_id === extraProject);
    // The user channel is joined by its own engine call: wait until it is live too.
    await waitFor('the user channel live', async () => (await reporter.broadcastToUser('user-a', extraProject, { progress: 6 })) > 0);
    await client.next((f) => f.scope === 'user' && f.task_id === extraProject);
    expect((await upgradeAnswer(wsUrl(), { authorization: `Bearer ${await token({ sub: 'user-a' })}` })).status).toBe(101);
  });

  it('accepts a token minted with the mint-token CLI (the README one-liner)', async () => {
    const cli = fileURLToPath(new URL('../../../packages/auth/src/mint-token-cli.ts', import.meta.url));
    const mint = startTsProcess(cli, { JWT_SECRET: SECRET, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE }, ['sub=user-cli', 'project_id=proj-cli', 'ttl=60']);
    const minted = (await mint.waitForOutput(/^[\w-]+\.[\w-]+\.[\w-]+$/m)).trim();
    await mint.stop();
    const client = await connectClient(wsUrl(`token=${minted}`));
    expect(client.frames.find((f) => f.type === 'connected')!.payload).toMatchObject({ user_id: 'user-cli', project_id: 'proj-cli' });
  });

  it('refuses user_id and project_id query parameters with 400, even beside a good token', async () => {
    const good = await token({ sub: 'user-a' });
    for (const field of ['user_id', 'project_id']) {
      const answer = await refusedUpgrade(wsUrl(`token=${good}&${field}=user-b`));
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body).error).toMatchObject({ code: 'bad_request', field, reason: 'query_identity' });
    }
  });

  it('refuses a browser origin not in ALLOWED_ORIGINS with 403, before looking at the token', async () => {
    const good = await token({ sub: 'user-a' });
    const refused = await upgradeAnswer(wsUrl(`token=${good}`), { origin: 'https://evil.example' });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).error).toMatchObject({ code: 'forbidden', reason: 'origin' });
    expect((await upgradeAnswer(wsUrl(), { origin: 'https://evil.example' })).status).toBe(403);
    expect((await upgradeAnswer(wsUrl(`token=${good}`), { origin: ORIGIN })).status).toBe(101);
    expect((await refusals()).origin).toBeGreaterThanOrEqual(2);
  });
});

describe('jwt mode: per-task authorization', { retry: 2 }, () => {
  it('lets a connection subscribe to its user’s, its projects’ and its granted tasks only; foreign and unknown tasks get the same forbidden', async () => {
    const run = uniquePrefix();
    const own = `${run}-own`;
    const ofProject = `${run}-project`;
    const foreignUser = `${run}-foreign-user`;
    const foreignProject = `${run}-foreign-project`;
    const granted = `${run}-granted`;
    const unknown = `${run}-never-started`;
    await publish(engine, { kind: 'start', taskId: own, userId: 'user-a' });
    await publish(engine, { kind: 'start', taskId: ofProject, userId: 'user-z', projectId: 'proj-b' });
    await publish(engine, { kind: 'start', taskId: foreignUser, userId: 'user-b' });
    await publish(engine, { kind: 'start', taskId: foreignProject, userId: 'user-b', projectId: 'proj-x' });
    await publish(engine, { kind: 'start', taskId: granted, userId: 'user-c', projectId: 'proj-c' });
    for (const taskId of [own, ofProject, foreignUser, foreignProject, granted]) await publish(engine, progress(taskId, 10));

    const client = await connectClient(wsUrl(`token=${await token({ sub: 'user-a', project_id: 'proj-a', projects: ['proj-b'], tasks: [granted] })}`));
    for (const taskId of [own, ofProject, granted]) {
      const answer = await subscribeAnswer(client, taskId);
      expect([taskId, answer.type]).toEqual([taskId, 'ack']);
      expect(client.taskFrames(taskId).some((f) => f.type === 'progress')).toBe(true);
    }
    const refusedMessages = new Set<string>();
    for (const taskId of [foreignUser, foreignProject, unknown]) {
      const answer = await subscribeAnswer(client, taskId);
      expect([taskId, answer.type, answer.payload.code]).toEqual([taskId, 'error', 'forbidden']);
      refusedMessages.add(answer.payload.message);
    }
    expect(refusedMessages.size).toBe(1); // no existence oracle
    // Live frames of the refused tasks never arrive; the allowed task's do.
    for (const taskId of [foreignUser, foreignProject]) await publish(engine, progress(taskId, 50));
    await publish(engine, { kind: 'start', taskId: unknown, userId: 'user-b' });
    await publish(engine, progress(own, 60));
    await client.next((f) => f.task_id === own && f.type === 'progress' && f.payload.progress === 60);
    for (const taskId of [foreignUser, foreignProject, unknown]) {
      expect(client.taskFrames(taskId).map((f) => f.type)).toEqual(['error']);
    }
  });

  it('refuses a second user the first user’s task the same way over another connection', async () => {
    const taskId = `${uniquePrefix()}-private`;
    await publish(engine, { kind: 'start', taskId, userId: 'user-a', projectId: 'proj-a' });
    const other = await connectClient(wsUrl(`token=${await token({ sub: 'user-b', project_id: 'proj-b' })}`));
    const answer = await subscribeAnswer(other, taskId);
    expect(answer.payload.code).toBe('forbidden');
    expect(other.taskFrames(taskId)).toHaveLength(1);
  });
});

describe('jwt mode: token lifetime and resume', { retry: 2 }, () => {
  it('keeps a connection that refreshed before expiry; refuses a refresh for another sub or with a bad token', async () => {
    // Every token minted up front: the good refresh must land well before the first token's expiry even on a busy machine.
    const [first, fresh, otherSub, expired] = await Promise.all([
      token({ sub: 'user-a', exp: seconds() + 3 }),
      token({ sub: 'user-a', exp: seconds() + 60 }),
      token({ sub: 'user-b' }),
      token({ sub: 'user-a', exp: seconds() - 120 }),
    ]);
    const client = await connectClient(wsUrl(`token=${first}`));
    const socketErrors: string[] = [];
    client.ws.on('error', (error) => socketErrors.push(error.message));
    client.send({ action: 'refresh', token: fresh, request_id: 'good' });
    const answer = await Promise.race([client.next((f) => f.request_id === 'good'), client.closed.then((closed) => ({ closed, frames: client.frames, socketErrors }))]);
    expect(answer).toEqual({ type: 'ack', action: 'refresh', request_id: 'good', payload: {} });
    // Refused refreshes change nothing: the connection keeps the expiry of the good one.
    client.send({ action: 'refresh', token: otherSub, request_id: 'other-sub' });
    expect((await client.next((f) => f.request_id === 'other-sub')).payload).toMatchObject({ code: 'unauthorized', field: 'token' });
    client.send({ action: 'refresh', token: expired, request_id: 'expired' });
    expect((await client.next((f) => f.request_id === 'expired')).payload.message).toMatch(/\(expired\)/);
    await new Promise((resolve) => setTimeout(resolve, 4000));
    client.send({ action: 'ping', request_id: 'still-here' });
    expect((await client.next((f) => f.request_id === 'still-here')).type).toBe('ack');
  });

  it('closes with 4502 token_expired when the token expires without a refresh', async () => {
    // At least two seconds of life: uWebSockets.js sometimes loses the close frame of an end() within about a second of open (the client then sees 1006).
    const client = await connectClient(wsUrl(`token=${await token({ sub: 'user-a', exp: seconds() + 3 })}`));
    const socketErrors: string[] = [];
    client.ws.on('error', (error) => socketErrors.push(error.message));
    const started = Date.now();
    const closed = await client.closed;
    expect({ ...closed, socketErrors }).toEqual({ code: 4502, reason: 'token_expired', socketErrors: [] });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(client.frames.map((f) => f.type)).toEqual(['connected']);
  });

  it('lets only the same sub resume a session with old_client_id', async () => {
    const first = await connectClient(wsUrl(`token=${await token({ sub: 'user-a', project_id: 'proj-a' })}`));
    const oldClientId = first.clientId;
    await first.close();
    await waitFor('session saved', async () => (await engine.loadSession(oldClientId)) !== null);
    const takeover = await refusedUpgrade(wsUrl(`token=${await token({ sub: 'user-b' })}&old_client_id=${oldClientId}`));
    expect(takeover.status).toBe(403);
    expect(JSON.parse(takeover.body).error).toMatchObject({ code: 'forbidden', field: 'old_client_id', reason: 'resume_owner' });
    const resumed = await connectClient(wsUrl(`token=${await token({ sub: 'user-a' })}&old_client_id=${oldClientId}`));
    expect(resumed.frames.find((f) => f.type === 'connected')!.payload.user_id).toBe('user-a');
  });
});

describe('main.ts without AUTH_MODE', () => {
  it('exits 1 naming AUTH_MODE', async () => {
    const child = startTsProcess(mainFile, { REDIS_URL: inject('redisUrl'), PORT: '0', AUTH_MODE: '' });
    try {
      await child.waitForOutput(/AUTH_MODE must be one of jwt, insecure \(required\)/);
      await waitFor('exit', () => child.child.exitCode !== null);
      expect(child.child.exitCode).toBe(1);
    } finally {
      await child.kill();
    }
  });
});
