/**
 * Debian's chromium driven by playwright-core (never `playwright install`), with a fresh
 * profile per launch; screenshots go to test-output/ui/.
 */
import type { PageWindow } from './page-dom.ts';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where screenshots and measurements are written. */
export const OUTPUT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-output', 'ui');

/** A browser with one page. */
export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Errors the page threw (uncaught exceptions), for assertions. */
  pageErrors: string[];
  close: () => Promise<void>;
}

/** Launch chromium headless with a fresh profile. */
export async function launchBrowser(width = 1440, height = 900): Promise<Browser> {
  const profile = mkdtempSync(path.join(tmpdir(), 'cc-ui-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width, height },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    // The fresh profile above is passed to chromium as --user-data-dir by playwright itself.
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  return {
    context,
    page,
    pageErrors,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Save a screenshot as test-output/ui/<name>-<theme>.png. */
export async function shot(page: Page, name: string): Promise<string> {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  const theme = await page.evaluate(() => (globalThis as unknown as PageWindow).document.documentElement.dataset.theme ?? 'light');
  const file = path.join(OUTPUT_DIR, `${name}-${theme}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** Switch the theme the way an operator does (header button). */
export async function setTheme(page: Page, theme: 'light' | 'dark'): Promise<void> {
  const now = await page.evaluate(() => (globalThis as unknown as PageWindow).document.documentElement.dataset.theme);
  if (now !== theme) await page.click('[data-test="theme-toggle"]');
  await page.waitForFunction((t) => (globalThis as unknown as PageWindow).document.documentElement.dataset.theme === t, theme);
  // naive-ui fades colours between themes; let the fade finish before any screenshot.
  await page.waitForTimeout(500);
}
