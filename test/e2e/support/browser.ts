import { existsSync } from 'node:fs';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { CHROMIUM } from '../../support/system.js';

/**
 * Debian's Chromium driven by playwright-core. As root it needs --no-sandbox; the rest keeps it off the
 * network this machine does not have (no background lookups of Google's hosts, no component updates).
 * playwright's launch() gives every browser a fresh, empty --user-data-dir of its own (a temp profile it
 * deletes on close), so nothing carries over between runs.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** Waits until `locator` (narrowed to elements containing `text`) is there, and returns its text. */
export async function textOf(locator: Locator, text?: string): Promise<string> {
  const l = (text === undefined ? locator : locator.filter({ hasText: text })).first();
  await l.waitFor();
  return (await l.textContent()) ?? '';
}

/** The paper page is complete (print/main.ts sets body[data-ready]). */
export async function paperReady(page: Page): Promise<void> {
  await page.locator('body[data-ready="true"]').waitFor();
}
