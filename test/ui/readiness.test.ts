/**
 * The setup screen's readiness table in Debian's chromium against a real appliance: every row the
 * API answers is shown, grouped, with the fix under each warning and problem; a damaged microkernel
 * planted in the data dir turns into a problem row and a "not ready" verdict after "Check again".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { Readiness } from '../../contract/readiness.ts';
import { startAppliance, type Appliance } from './appliance.ts';
import { ensureUiBuilt } from './ui-build.ts';
import { launchBrowser, shot, type Browser } from './browser.ts';

let appliance: Appliance;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  await ensureUiBuilt();
  [appliance, browser] = await Promise.all([startAppliance(['--lab', 'sim:2']), launchBrowser()]);
  page = browser.page;
  await page.goto(appliance.loginUrl);
  await page.waitForSelector('[data-test="stream-state"]:has-text("live")');
});
afterAll(async () => {
  await browser?.close();
  await appliance?.stop();
});

const rowStatus = (p: Page, id: string) => p.getAttribute(`[data-test="readiness"] [data-row="${id}"]`, 'data-status');

describe('setup screen readiness', () => {
  it('shows every row of GET /api/v1/readiness with the fix under each warning', async () => {
    // A damaged copy of the Secure Boot shim in the data dir: not every rack needs it, so a warning with its fix
    // (whatever else this machine has built, e.g. both microkernels).
    await fs.mkdir(path.join(appliance.dataDir, 'loaders'), { recursive: true });
    await fs.writeFile(path.join(appliance.dataDir, 'loaders', 'shimx64.efi'), 'not the signed shim');
    const api = await appliance.api<Readiness>('GET', '/api/v1/readiness');
    await page.goto(`${appliance.adminUrl}/#/setup`);
    await page.waitForSelector('[data-test="readiness"] [data-row]');
    expect(await page.locator('[data-test="readiness"] [data-row]').count()).toBe(api.rows.length);
    for (const r of api.rows) expect(await rowStatus(page, r.id)).toBe(r.status);
    const warned = api.rows.filter((r) => r.status === 'warn' && r.fix);
    expect(warned.map((r) => r.id)).toContain('loader-shim-grub-x64'); // the damaged shim, with its fix
    for (const r of warned)
      expect(await page.textContent(`[data-test="readiness"] [data-row="${r.id}"] [data-test="readiness-fix"]`)).toContain(
        r.fix!.slice(0, 40),
      );
    expect(await page.textContent('[data-test="readiness-verdict"]')).toContain('Ready to serve a rack.');
    await shot(page, 'setup-readiness');
  });

  it('a damaged microkernel in the data dir becomes a problem row with its fix after "Check again"', async () => {
    // arm64: the kit's appliance names its amd64 microkernel with --microkernel, which the data dir does not override.
    const dir = path.join(appliance.dataDir, 'microkernel', 'arm64');
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, 'vmlinuz'), 'k');
    await fs.writeFile(path.join(dir, 'initrd.img'), 'i');
    await fs.writeFile(
      path.join(dir, 'manifest.json'),
      JSON.stringify({ version: 'damaged', files: { vmlinuz: { sha256: '0'.repeat(64) }, 'initrd.img': { sha256: '0'.repeat(64) } } }),
    );
    await page.click('[data-test="readiness-refresh"]');
    await page.waitForSelector('[data-test="readiness"] [data-row="microkernel-arm64"][data-status="fail"]');
    const row = page.locator('[data-test="readiness"] [data-row="microkernel-arm64"]');
    expect(await row.textContent()).toMatch(/damaged.*differ from manifest\.json.*Fix: Run `crashcart prepare --arch arm64`/s);
    expect(await page.textContent('[data-test="readiness-verdict"]')).toMatch(/Not ready: 1 problem below/);
    await shot(page, 'setup-readiness-problem');
  });
});
