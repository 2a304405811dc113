import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { buildAgent } from '../../../src/client/index.js';
import { systemClock } from '../../../src/common/clock.js';
import { VPCD_READER_NAME } from '../../../src/reader/index.js';
import { buildApp } from '../../../src/server/app.js';
import { acquirePcscdLock, ensurePcscd } from '../../card/support/pcscd.js';
import { freePort, residentWithCard, type ResidentCard } from '../../client/support.js';
import { launchChromium } from './browser.js';
import { serveCard } from './card.js';

export const SCREENSHOTS = join(import.meta.dirname, '..', '..', '..', 'tmp', 'screenshots');

/** Everything a resident's online session runs on, started for a page test. */
export interface OnlineWindow {
  r: ResidentCard;
  app: FastifyInstance;
  base: string;
  browser: Browser;
  page: Page;
  stop(): Promise<void>;
}

/**
 * The service (pages, OCSP), 公的 一郎's card served into pcscd's vpcd reader, his local client agent and
 * headless Chromium as him: what the portal's online window and the agency site are tested through.
 * `publishCrls` publishes every CRL first (a verifier falls back to them); `context` adds browser options.
 */
export async function startOnlineWindow(o: { publishCrls?: boolean; context?: BrowserContextOptions } = {}): Promise<OnlineWindow> {
  const serverPort = await freePort();
  const agentPort = await freePort();
  const base = `http://127.0.0.1:${serverPort}`;
  const stops: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s();
  };
  try {
    const r = await residentWithCard({ clock: systemClock, publicUrl: base });
    stops.push(() => r.t.cleanup());
    if (o.publishCrls) await r.t.services.crlUpdater.runOnce();
    const app = await buildApp(r.t.services, { agentUrl: `http://127.0.0.1:${agentPort}` });
    stops.push(() => app.close());
    await app.listen({ port: serverPort, host: '127.0.0.1' });
    r.t.services.ocsp.startUpdater({ presign: 'on-demand' });
    stops.push(await acquirePcscdLock());
    const pcscd = await ensurePcscd();
    stops.push(() => pcscd.stop());
    const card = await serveCard(r.t.dir, r.card);
    stops.push(() => card.stop());
    const agent = await buildAgent({ card: { type: 'pcsc', readerName: VPCD_READER_NAME }, allowedOrigins: [base], clock: systemClock });
    stops.push(() => agent.close());
    await agent.listen({ port: agentPort, host: '127.0.0.1' });
    const browser = await launchChromium();
    stops.push(() => browser.close());
    const context = await browser.newContext({ locale: 'ja-JP', timezoneId: 'Asia/Tokyo', ...o.context });
    const page = await context.newPage();
    page.on('console', (m) => process.env.JPKI_DEBUG && console.log(`page: ${m.text()}`));
    context.on('page', (p) => p.on('console', (m) => process.env.JPKI_DEBUG && console.log(`popup: ${m.text()}`)));
    mkdirSync(SCREENSHOTS, { recursive: true });
    return { r, app, base, browser, page, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
