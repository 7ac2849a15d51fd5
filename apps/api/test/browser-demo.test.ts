/**
 * The demo page in a real browser: `npm start` (apps/start.ts, memory engine, no Redis) as a child
 * process, headless Chromium through playwright-core. A click on "Start demo job" shows the task running
 * through its four steps to completed; a dropped connection reconnects with backoff and resumes exactly;
 * the guide's connect-and-subscribe snippet, evaluated verbatim in the page, receives its messages.
 * Skipped only outside CI when Chromium is missing; in CI a missing Chromium fails with what to install.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM_PATH, chromiumMissing, freePort, GUIDE_CONNECT_AND_SUBSCRIBE, launchChromium, startTsProcess, type ManagedProcess } from '@taskpulse/testkit';

const STEPS = ['下载视频', '视频转码', '生成缩略图', '上传视频'];
const startFile = new URL('../../start.ts', import.meta.url).pathname;

let proc: ManagedProcess | undefined;
let browser: Browser | undefined;
let port: number;
/** Uncaught page errors and console errors (a CSP violation shows up here): any one fails the test. */
const pageProblems: string[] = [];

async function openPage(path = '/'): Promise<Page> {
  const page = await browser!.newPage({ viewport: { width: 1000, height: 760 } });
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

// In CI a missing browser is a failure, never a silent skip; on a developer's machine it is a skip.
if (chromiumMissing && process.env.CI) {
  it('finds Chromium, which CI must run the browser test with', () => {
    throw new Error(`${CHROMIUM_PATH} is missing: CI must install it before npm test (apt-get install -y chromium)`);
  });
}

describe.skipIf(chromiumMissing)('demo page in headless Chromium', () => {
  beforeAll(async () => {
    port = await freePort();
    proc = startTsProcess(startFile, { PORT: String(port), REDIS_URL: '', LOG_LEVEL: 'warn', STEP_DELAY_MS: '600' });
    const [, launched] = await Promise.all([
      proc.waitForOutput(/taskpulse listening on \S+/, 30_000),
      launchChromium(),
    ]);
    browser = launched;
    expect(proc.output()).toContain(`demo page  http://localhost:${port}/`);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (proc) expect(await proc.stop()).toBe(0);
  });

  it('starts a demo job with the button and shows it through its four steps to completed', async () => {
    const page = await openPage();
    await page.click('#start');
    const task = page.locator('.task').first();
    await page.waitForSelector('.task[data-status="completed"][data-steps-seen="4"]', { timeout: 20_000 });
    const taskId = await task.getAttribute('data-task-id');
    expect(taskId).toMatch(/^video-/);
    expect(await task.locator('.badge').textContent()).toBe('completed');
    expect(await task.locator('.pct').textContent()).toBe('100%');
    expect(await task.locator('.chip').allTextContents()).toEqual(STEPS.map((step, i) => `${i + 1} · ${step}`));
    expect(JSON.parse((await task.locator('.outcome').textContent())!)).toEqual({ video_url: `https://example.com/videos/${taskId}.mp4` });
    expect(await task.locator('.position').textContent()).toMatch(/^offset 6 · epoch \S+$/);
    expect(await task.locator('.resume').textContent()).toBe('subscribed');
    await page.screenshot({ path: '/tmp/demo.png', fullPage: true });
    expect(pageProblems).toEqual([]);
    await page.close();
  }, 60_000);

  it('reconnects after a dropped connection and resumes exactly from the last offset', async () => {
    const page = await openPage();
    await page.selectOption('#outcome', '4');
    await page.click('#start');
    await page.waitForSelector('.task[data-steps-seen="2"]', { timeout: 20_000 });
    await page.click('#drop');
    // The guide's backoff: the first retry waits 2 s (min(1000 * 2^1, 30000)).
    await page.waitForSelector('#conn[data-state="reconnecting"]');
    expect(await page.textContent('#conn-text')).toMatch(/reconnecting in 2 s \(attempt 1\/5\)/);
    await page.waitForSelector('#conn[data-state="connected"]', { timeout: 10_000 });
    const task = page.locator('.task').first();
    await page.waitForSelector('.task[data-status="failed"] .resume[data-kind="exact"]', { timeout: 20_000 });
    expect(await task.locator('.resume').textContent()).toBe('resumed exactly');
    expect(await task.getAttribute('data-steps-seen')).toBe('4');
    expect(await task.locator('.outcome').textContent()).toBe('视频处理失败: 上传视频失败: 对象存储拒绝写入');
    expect(await task.locator('.position').textContent()).toMatch(/^offset 6 · epoch /);
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
