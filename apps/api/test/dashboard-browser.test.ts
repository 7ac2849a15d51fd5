/**
 * The dashboard in a real browser: `npm start` (apps/start.ts, memory engine, no Redis) as a child process,
 * Debian's Chromium through playwright-core. Two demo jobs (one completes, one fails at step 3) run to
 * their end, a reload shows the same state, a screenshot goes to docs/; a dropped connection reconnects and
 * resumes exactly; a second page of the project lists a job started elsewhere; a phone-width viewport has
 * no horizontal scrolling; the guide's connect-and-subscribe snippet runs verbatim in the page. Any page
 * error or console error (a CSP violation shows up there) fails the test. Skipped only outside CI when
 * Chromium is missing; in CI a missing Chromium fails with what to install.
 */
import { createHash } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM_PATH, chromiumMissing, freePort, GUIDE_CONNECT_AND_SUBSCRIBE, launchChromium, startTsProcess, type ManagedProcess } from '@taskpulse/testkit';

const STEPS = ['下载视频', '视频转码', '生成缩略图', '上传视频'];
const startFile = new URL('../../start.ts', import.meta.url).pathname;
const docs = new URL('../../../docs/', import.meta.url).pathname;

let proc: ManagedProcess | undefined;
let browser: Browser | undefined;
let port: number;
/** Uncaught page errors and console errors: any one fails the test. */
const pageProblems: string[] = [];

async function openPage(path = '/', viewport = { width: 1100, height: 900 }): Promise<Page> {
  const page = await browser!.newPage({ viewport });
  page.on('pageerror', (error) => pageProblems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') pageProblems.push(`console.error: ${message.text()}`);
  });
  await page.goto(`http://127.0.0.1:${port}${path}`);
  await page.waitForSelector('#conn[data-state="connected"]', { timeout: 15_000 });
  return page;
}

async function post(path: string, body: unknown): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** What a task card shows, as text. */
async function cardState(page: Page, taskId: string) {
  const card = page.locator(`.task[data-task-id="${taskId}"]`);
  return {
    status: await card.getAttribute('data-status'),
    badge: await card.locator('.badge').textContent(),
    pct: await card.locator('.pct').textContent(),
    width: await card.locator('.fill').evaluate((el) => (el as any).style.width),
    step: await card.locator('.step').textContent(),
    chips: await card.locator('.chip').allTextContents(),
    outcome: await card.locator('.outcome').textContent(),
    position: await card.locator('.position').textContent(),
    elapsed: await card.locator('.elapsed').textContent(),
  };
}

async function startJob(page: Page, failAt = ''): Promise<string> {
  const before = await page.locator('.task').count();
  await page.selectOption('#outcome', failAt);
  await page.click('#start');
  await page.waitForFunction((n) => (globalThis as any).document.querySelectorAll('.task').length > n, before);
  return (await page.locator('.task').first().getAttribute('data-task-id'))!;
}

// In CI a missing browser is a failure, never a silent skip; on a developer's machine it is a skip.
if (chromiumMissing && process.env.CI) {
  it('finds Chromium, which CI must run the browser test with', () => {
    throw new Error(`${CHROMIUM_PATH} is missing: CI must install it before npm test (apt-get install -y chromium)`);
  });
}

describe.skipIf(chromiumMissing)('dashboard in headless Chromium', () => {
  beforeAll(async () => {
    port = await freePort();
    proc = startTsProcess(startFile, { PORT: String(port), REDIS_URL: '', LOG_LEVEL: 'warn', STEP_DELAY_MS: '600' });
    const [, launched] = await Promise.all([proc.waitForOutput(/taskpulse listening on \S+/, 30_000), launchChromium()]);
    browser = launched;
    expect(proc.output()).toContain(`demo page  http://localhost:${port}/`);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (proc) expect(await proc.stop()).toBe(0);
  });

  it('runs two demo jobs to their end (completed, failed), shows the same state after a reload, and saves a screenshot', async () => {
    const page = await openPage();
    const done = await startJob(page);
    const failing = await startJob(page, '3');
    expect(done).toMatch(/^video-/);
    // While running: a live ETA from the progress rate.
    await page.waitForSelector(`.task[data-task-id="${done}"][data-status="running"] .eta:text-matches("^ETA \\\\d")`, { timeout: 20_000 });
    await page.waitForSelector(`.task[data-task-id="${done}"][data-status="completed"]`, { timeout: 20_000 });
    await page.waitForSelector(`.task[data-task-id="${failing}"][data-status="failed"]`, { timeout: 20_000 });

    const completed = await cardState(page, done);
    expect(completed).toMatchObject({ badge: 'completed', pct: '100%', width: '100%', position: expect.stringMatching(/^offset 6 · epoch \S+$/) });
    expect(completed.chips).toEqual(STEPS.map((step, i) => `${i + 1} · ${step}`));
    expect(JSON.parse(completed.outcome!)).toEqual({ video_url: `https://example.com/videos/${done}.mp4` });
    expect(completed.elapsed).toMatch(/^elapsed \d/);
    const failed = await cardState(page, failing);
    expect(failed).toMatchObject({ badge: 'failed', outcome: '视频处理失败: 生成缩略图失败: 无法解码关键帧', step: '生成缩略图', pct: '50%' });
    expect(failed.chips).toHaveLength(3);
    expect(await page.locator(`.task[data-task-id="${done}"] .resume`).textContent()).toBe('subscribed');
    // The cluster panel: this page's connection on one node.
    await page.waitForFunction(() => Number((globalThis as any).document.getElementById('clients')!.textContent) >= 1);
    expect(await page.textContent('#nodes')).toBe('1');
    await page.waitForFunction(() => Number((globalThis as any).document.getElementById('completed').textContent) >= 1);
    expect(Number(await page.textContent('#failed'))).toBeGreaterThanOrEqual(1);

    await page.reload();
    await page.waitForSelector('#conn[data-state="connected"]', { timeout: 15_000 });
    await page.waitForSelector(`.task[data-task-id="${done}"][data-status="completed"][data-steps-seen="4"]`, { timeout: 10_000 });
    await page.waitForSelector(`.task[data-task-id="${failing}"][data-status="failed"][data-steps-seen="3"]`, { timeout: 10_000 });
    await page.waitForSelector(`.task[data-task-id="${done}"] .elapsed:text-matches("^elapsed")`);
    expect(await cardState(page, done)).toEqual(completed);
    expect(await cardState(page, failing)).toEqual(failed);
    expect(await page.locator('.task').evaluateAll((els) => els.map((el) => (el as any).dataset.taskId))).toEqual([failing, done]);

    // The history view reads the REST history: six events of the completed task, newest first.
    await page.click(`.task[data-task-id="${done}"] .history-toggle`);
    const rows = page.locator(`.task[data-task-id="${done}"] .history tbody tr`);
    await rows.first().waitFor();
    expect(await rows.count()).toBe(6);
    expect(await rows.first().locator('td').nth(2).textContent()).toBe('completed');

    // A third job half way, for a screenshot with a running bar and its ETA.
    const running = await startJob(page);
    await page.waitForSelector(`.task[data-task-id="${running}"] .eta:text-matches("^ETA")`, { timeout: 20_000 });
    await page.screenshot({ path: `${docs}dashboard.png`, fullPage: true });
    await page.waitForSelector(`.task[data-task-id="${running}"][data-status="completed"]`, { timeout: 20_000 });
    expect(pageProblems).toEqual([]);
    await page.close();
  }, 90_000);

  it('reconnects after a dropped connection and resumes exactly from the last offset', async () => {
    const page = await openPage('/?project_id=drop-test');
    const taskId = await startJob(page, '4');
    await page.waitForSelector(`.task[data-task-id="${taskId}"][data-steps-seen="2"]`, { timeout: 20_000 });
    await page.click('#drop');
    // Full jitter from 1 s: the first retry waits 1-2 s.
    await page.waitForSelector('#conn[data-state="reconnecting"]');
    expect(await page.textContent('#conn-text')).toMatch(/^reconnecting in [12] s \(attempt 1\)$/);
    // Up to 10 s more when the resumed socket is never greeted (README known issue): the client drops and retries it.
    await page.waitForSelector('#conn[data-state="connected"]', { timeout: 25_000 });
    const card = page.locator(`.task[data-task-id="${taskId}"]`);
    await page.waitForSelector(`.task[data-task-id="${taskId}"][data-status="failed"] .resume[data-kind="exact"]`, { timeout: 30_000 });
    expect(await card.locator('.resume').textContent()).toBe('resumed exactly');
    expect(await card.getAttribute('data-steps-seen')).toBe('4');
    expect(await card.locator('.outcome').textContent()).toBe('视频处理失败: 上传视频失败: 对象存储拒绝写入');
    expect(await card.locator('.position').textContent()).toMatch(/^offset 6 · epoch /);
    expect(pageProblems).toEqual([]);
    await page.close();
  }, 60_000);

  it('lists a job started for the project elsewhere, live (the start is broadcast to the project)', async () => {
    const watcher = await openPage('/?project_id=shared-project&user_id=viewer');
    const res = await post('/api/v1/demo/jobs', { user_id: 'someone-else', project_id: 'shared-project' });
    expect(res.status).toBe(202);
    const { task_id: taskId } = (await res.json()) as { task_id: string };
    await watcher.waitForSelector(`.task[data-task-id="${taskId}"][data-status="completed"]`, { timeout: 20_000 });
    expect(pageProblems).toEqual([]);
    await watcher.close();
  }, 60_000);

  it('stays usable at phone width: no horizontal scrolling, controls on screen', async () => {
    const page = await openPage('/?project_id=phone', { width: 390, height: 844 });
    const taskId = await startJob(page, '2');
    await page.waitForSelector(`.task[data-task-id="${taskId}"][data-status="failed"]`, { timeout: 20_000 });
    const layout = await page.evaluate(() => ({
      scrollWidth: (globalThis as any).document.documentElement.scrollWidth,
      innerWidth: (globalThis as any).innerWidth,
      boxes: ['start', 'outcome', 'drop', 'watch-id', 'conn'].map((id) => (globalThis as any).document.getElementById(id)!.getBoundingClientRect()),
      card: (globalThis as any).document.querySelector('.task')!.getBoundingClientRect(),
    }));
    expect(layout.scrollWidth).toBeLessThanOrEqual(layout.innerWidth);
    for (const box of [...layout.boxes, layout.card]) {
      expect(box.left).toBeGreaterThanOrEqual(0);
      expect(box.right).toBeLessThanOrEqual(layout.innerWidth);
      expect(box.width).toBeGreaterThan(0);
    }
    await page.screenshot({ path: `${docs}dashboard-phone.png`, fullPage: true });
    expect(pageProblems).toEqual([]);
    await page.close();
  }, 60_000);

  it("runs the guide's connect-and-subscribe snippet verbatim in the page and receives its messages", async () => {
    const page = await openPage();
    const logged: string[] = [];
    page.on('console', (message) => logged.push(message.text()));
    const snippet = GUIDE_CONNECT_AND_SUBSCRIBE.replace('localhost:8080', `127.0.0.1:${port}`);
    // The helpers the guide leaves to the page; its own reconnect timer is not exercised here.
    await page.evaluate(`(() => {
      const received = { progress: [], status: [], frames: [] };
      window.guideReceived = received;
      function updateProgress(payload) { received.progress.push(payload); }
      function updateStatus(payload) { received.status.push(payload); }
      function connectWebSocket() {}
      ${snippet}
      window.guideClient = { ws, subscribeTask, unsubscribeTask };
      // The test's own listener beside the snippet's, to see the acks the snippet only logs.
      ws.addEventListener('message', (event) => received.frames.push(JSON.parse(event.data)));
    })()`);
    await page.waitForFunction(() => (globalThis as any).guideClient.ws.readyState === 1);
    await expect.poll(() => logged.some((line) => line.startsWith('连接成功，客户端ID:')), { timeout: 10_000 }).toBe(true);

    const taskId = `guide-${Date.now()}`;
    await page.evaluate((id) => (globalThis as any).guideClient.subscribeTask(id), taskId);
    // Publish only once subscribed: a later subscriber gets the latest state, not every step.
    await page.waitForFunction((id) => (globalThis as any).guideReceived.frames.some((f: any) => f.type === 'ack' && f.task_id === id), taskId);
    expect((await post(`/api/v1/tasks/${taskId}/start`, { user_id: 'user-123', project_id: 'project-456' })).status).toBe(201);
    for (const [i, step] of STEPS.entries()) {
      const res = await post(`/api/v1/progress/${taskId}`, { progress: i * 25, current_step: step, completed_steps: i, total_steps: 4, message: `step ${i + 1}` });
      expect(res.status).toBe(200);
    }
    expect((await post(`/api/v1/tasks/${taskId}/complete`, { result: { ok: true } })).status).toBe(200);

    const received = await page.waitForFunction(
      () => {
        const r = (globalThis as any).guideReceived;
        return r.status.some((s: any) => s.status === 'completed') ? r : null;
      },
      undefined,
      { timeout: 10_000 },
    );
    const { progress, status } = (await received.jsonValue()) as { progress: any[]; status: any[] };
    expect(progress.map((p) => p.current_step)).toEqual(STEPS);
    expect(progress.every((p) => p.task_id === taskId && p.total_steps === 4)).toBe(true);
    expect(status.map((s) => s.status)).toEqual(['running', 'completed']);
    expect(status.at(-1).result).toEqual({ ok: true });
    expect(pageProblems).toEqual([]);
    await page.close();
  }, 60_000);
});

describe.skipIf(chromiumMissing)('dashboard with AUTH_MODE=jwt', () => {
  const secret = 'dashboard-test-secret-0123456789abcdef0123';
  const apiKey = 'dashboard-test-publish-key';
  let jwtProc: ManagedProcess | undefined;
  let jwtBrowser: Browser | undefined;
  afterAll(async () => {
    await jwtBrowser?.close();
    if (jwtProc) expect(await jwtProc.stop()).toBe(0);
  });

  it('connects with the token from the URL fragment and reads history with it', async () => {
    const jwtPort = await freePort();
    const keys = JSON.stringify([{ id: 'test', sha256: createHash('sha256').update(apiKey).digest('hex'), scopes: ['publish'] }]);
    jwtProc = startTsProcess(startFile, { PORT: String(jwtPort), REDIS_URL: '', LOG_LEVEL: 'warn', AUTH_MODE: 'jwt', JWT_SECRET: secret, API_KEYS: keys, ALLOWED_ORIGINS: `http://127.0.0.1:${jwtPort}` });
    const [, launched] = await Promise.all([jwtProc.waitForOutput(/taskpulse listening on \S+/, 30_000), launchChromium()]);
    jwtBrowser = launched;
    const token = await new SignJWT({ project_id: 'jwt-project' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('jwt-user')
      .setExpirationTime(Math.floor(Date.now() / 1000) + 600)
      .sign(new TextEncoder().encode(secret));
    const page = await jwtBrowser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`http://127.0.0.1:${jwtPort}/?project_id=jwt-project#token=${token}`);
    // A fresh jwt gateway sometimes never greets (README known issue): the client retries after its connect timeout.
    await page.waitForSelector('#conn[data-state="connected"]', { timeout: 30_000 });
    expect(await page.textContent('#user')).toBe('jwt-user');
    expect(await page.textContent('#project')).toBe('jwt-project');

    const taskId = `jwt-${Date.now()}`;
    const publish = (path: string, body: unknown) =>
      fetch(`http://127.0.0.1:${jwtPort}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': apiKey }, body: JSON.stringify(body) });
    expect((await publish(`/api/v1/tasks/${taskId}/start`, { user_id: 'jwt-user', project_id: 'jwt-project' })).status).toBe(201);
    for (const [i, step] of STEPS.entries()) {
      expect((await publish(`/api/v1/progress/${taskId}`, { progress: i * 25, current_step: step, completed_steps: i, total_steps: 4, message: step })).status).toBe(200);
    }
    expect((await publish(`/api/v1/tasks/${taskId}/complete`, { result: { ok: 1 } })).status).toBe(200);
    await page.fill('#watch-id', taskId);
    await page.click('#watch button');
    // Late subscriber: the steps before the newest come from the history, read with the bearer token.
    await page.waitForSelector(`.task[data-task-id="${taskId}"][data-status="completed"][data-steps-seen="4"]`, { timeout: 10_000 });
    expect(problems).toEqual([]);
    await page.close();
  }, 90_000);
});
