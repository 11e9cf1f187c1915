import { spawnSync } from 'node:child_process';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium, installed by .ci/run; undefined where the machine lacks it. */
export const CHROMIUM = ['/usr/bin/chromium'].find((candidate) => spawnSync(candidate, ['--version']).status === 0);

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  // Without these Chromium reaches out to Google's services at start, and on a closed network its connections are then refused.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A headless Chromium driven by playwright-core; close it in afterAll. */
export async function launchChromium(): Promise<Browser> {
  if (!CHROMIUM) throw new Error('chromium is not installed (apt-get install chromium; .ci/run does this)');
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}
