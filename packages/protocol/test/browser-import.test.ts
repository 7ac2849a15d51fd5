/**
 * The package root loads in a real browser with no polyfill: bundled by esbuild for the browser platform
 * (a Node built-in import fails the build) and evaluated in headless Chromium (a stray `Buffer` or `process`
 * global fails at module load). The page then uses the exports a browser client needs.
 */
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { CHROMIUM_PATH, chromiumMissing, launchChromium } from '@taskpulse/testkit';

const entry = new URL('../src/index.ts', import.meta.url).pathname;

if (chromiumMissing && process.env.CI) {
  it('finds Chromium, which CI must run the browser test with', () => {
    throw new Error(`${CHROMIUM_PATH} is missing: CI must install it before npm test (apt-get install -y chromium)`);
  });
}

describe.skipIf(chromiumMissing)('@taskpulse/protocol in a browser', () => {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('bundles for the browser platform and runs with no Node globals', async () => {
    const bundle = await build({ entryPoints: [entry], bundle: true, platform: 'browser', format: 'iife', globalName: 'protocol', write: false });
    const page = await browser!.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    await page.setContent('<!doctype html><title>protocol</title>');
    await page.addScriptTag({ content: bundle.outputFiles[0]!.text });
    const seen = await page.evaluate(() => {
      const p = (globalThis as unknown as { protocol: typeof import('../src/index') }).protocol;
      return {
        nodeGlobals: typeof (globalThis as { Buffer?: unknown }).Buffer + ' ' + typeof (globalThis as { process?: unknown }).process,
        reconnectAfterDrain: p.shouldReconnect(p.CLOSE_CODES.drain),
        reconnectAfterBadIdentity: p.shouldReconnect(p.CLOSE_CODES.bad_identity),
        channel: p.taskChannel('tp', 't-1'),
        subscribe: p.parseClientMessage('{"action":"subscribe","task_id":"t-1"}'),
        idProblem: p.idProblem('bad id!'),
        ack: p.encodeAckFrame('ping'),
        bigResult: (() => {
          try {
            p.encodeTaskEvent({ kind: 'complete', taskId: 't', result: 'é'.repeat(p.LIMITS.resultBytes / 2) });
            return 'accepted';
          } catch (error) {
            return (error as Error).message;
          }
        })(),
      };
    });
    expect(problems).toEqual([]);
    expect(seen.nodeGlobals).toBe('undefined undefined');
    expect(seen.reconnectAfterDrain).toBe(true);
    expect(seen.reconnectAfterBadIdentity).toBe(false);
    expect(seen.channel).toMatch(/t-1/);
    expect(seen.subscribe).toMatchObject({ action: 'subscribe' });
    expect(typeof seen.idProblem).toBe('string');
    expect(JSON.parse(seen.ack)).toMatchObject({ type: 'ack', action: 'ping' });
    // 'é' is 2 bytes in UTF-8, and the JSON quotes add 2: one over the limit, counted without Buffer
    expect(seen.bigResult).toMatch(/at most \d+ bytes as JSON, got \d+/);
  }, 30_000);
});
