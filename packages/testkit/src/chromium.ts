/**
 * Debian's Chromium driven by playwright-core, for browser tests. Never a downloaded browser: this machine
 * reaches only the npm and Debian registries, and Chromium's background networking is switched off because
 * every connection it tries is refused here.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Where `apt-get install -y chromium` puts the browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

/** True when Chromium is not installed (a browser test then skips locally and fails in CI). */
export const chromiumMissing = !existsSync(CHROMIUM_PATH);

/** Starts headless Chromium with the flags this machine needs. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 30_000 });
}
