/**
 * The operator's UI in a real browser against a real appliance with a simulated rack:
 * sign in with the printed link, watch nodes appear live, filter and select, bind with one
 * click, reject a bad rule, find a serial in the facts tree; screenshots of every screen.
 */
import type { PageWindow } from './page-dom.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Node } from '../../contract/node.ts';
import type { Policy, Task } from '../../contract/admin.ts';
import { startAppliance, type Appliance } from './appliance.ts';
import { ensureUiBuilt } from './ui-build.ts';
import { launchBrowser, setTheme, shot, type Browser } from './browser.ts';

let appliance: Appliance;
let browser: Browser;
let page: Page;

/** A selector that shows each screen has its data. */
const SCREEN_READY: Record<string, string> = {
  nodes: '[data-test="nodes-table"] .tr',
  setup: '[data-iface]',
  policies: '[data-policy="e2e-install"]',
  tags: '[data-tag="e2e-nobody"]',
  images: '[data-image="e2e-image"]',
  tasks: '[data-task]',
  events: '[data-test="event-log"] .ev',
  settings: 'h1:has-text("Settings")',
};

const rowCount = (p: Page): Promise<number> => p.locator('[data-test="nodes-table"] .tr').count();

beforeAll(async () => {
  await ensureUiBuilt();
  [appliance, browser] = await Promise.all([startAppliance(), launchBrowser()]);
  // Fast check-ins (pushed to the simulated agents as they register) so a bound node reboots
  // into its installer within seconds and the bind dialog can be watched up to `installing`.
  await appliance.api('PATCH', '/api/v1/settings', { checkin_interval_s: 2, checkin_skew_s: 0 });
  page = browser.page;
});
afterAll(async () => {
  await browser?.close();
  await appliance?.stop();
});

describe('operator UI against a running appliance', () => {
  it('signs in with the one-time link, removes it from the URL, and shows nodes arriving live', async () => {
    await page.goto(appliance.loginUrl);
    await page.waitForSelector('[data-test="stream-state"]:has-text("live")');
    expect(page.url()).not.toContain('login=');
    expect(page.url()).toMatch(/#\/nodes$/);
    // Mark the document: a reload would lose the mark, so rows seen later came in live.
    await page.evaluate(() => ((globalThis as unknown as PageWindow).ccMark = 42));
    await page.waitForFunction(
      () => (globalThis as unknown as PageWindow).document.querySelectorAll('[data-test="nodes-table"] .tr').length >= 20,
      undefined,
      { timeout: 60_000 },
    );

    const mac = '02:cc:e2:e0:00:01';
    const boot = await fetch(`${appliance.nodeUrl}/boot?mac=${mac}&serial=E2E-LIVE-1`);
    expect(boot.ok).toBe(true);
    await page.fill('[data-test="node-filter"] input', 'E2E-LIVE-1');
    const row = page.locator('[data-test="nodes-table"] .tr.fresh');
    await row.first().waitFor({ timeout: 15_000 });
    expect(await row.first().textContent()).toContain('E2E-LIVE-1');
    expect(await page.evaluate(() => (globalThis as unknown as PageWindow).ccMark)).toBe(42);
    await page.fill('[data-test="node-filter"] input', '');
    await shot(page, 'nodes');
  });

  it('filters by text and facet, selects with mouse and keyboard', async () => {
    const nodes = (await appliance.api<{ nodes: Node[] }>('GET', '/api/v1/nodes?limit=1000')).nodes;
    const target = nodes.find((n) => n.serial && n.manufacturer)!;
    await page.fill('[data-test="node-filter"] input', target.serial!);
    await page.waitForFunction(
      () => (globalThis as unknown as PageWindow).document.querySelectorAll('[data-test="nodes-table"] .tr').length === 1,
    );
    expect(await page.locator('[data-test="nodes-table"] .tr').first().getAttribute('data-node-id')).toBe(String(target.id));
    await page.fill('[data-test="node-filter"] input', '');

    // Facet: vendor.
    await page.click('[data-test="facet-vendor"]');
    await page.click(`.n-base-select-option:has-text("${target.manufacturer} (")`);
    await page.keyboard.press('Escape');
    const sameVendor = nodes.filter((n) => n.manufacturer === target.manufacturer).length;
    await page.waitForFunction(
      (n) => (globalThis as unknown as PageWindow).document.querySelectorAll('[data-test="nodes-table"] .tr').length === n,
      sameVendor,
    );
    expect(await page.textContent('[data-test="node-count"]')).toContain(`${sameVendor} of`);
    await page.click('[data-test="facet-vendor"] .n-base-clear');
    await page.waitForFunction(
      () => (globalThis as unknown as PageWindow).document.querySelectorAll('[data-test="nodes-table"] .tr').length >= 21,
    );

    // Keyboard: focus the grid, select three rows with shift+arrows.
    await page.click('[data-test="nodes-table"] .tr >> nth=0');
    await page.keyboard.press('Shift+ArrowDown');
    await page.keyboard.press('Shift+ArrowDown');
    expect(await page.textContent('[data-test="selected-count"]')).toContain('3 selected');
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-test="selected-count"]', { state: 'detached' });
    expect(await rowCount(page)).toBeGreaterThanOrEqual(21);
  });

  it('binds selected nodes to a policy in one click and shows each reach bound, then installing', async () => {
    // A policy that no node matches by itself, so only the explicit bind moves nodes.
    await appliance.api('POST', '/api/v1/tags', { name: 'e2e-nobody', rule: ['=', ['fact', 'serialnumber'], 'no-such-serial'] });
    const task = (await appliance.api<{ tasks: Task[] }>('GET', '/api/v1/tasks')).tasks[0]!;
    await appliance.api('POST', '/api/v1/policies', { name: 'e2e-install', task: task.name, tags: ['e2e-nobody'] });
    const registered = (await appliance.api<{ nodes: Node[] }>('GET', '/api/v1/nodes?limit=1000')).nodes
      .filter((n) => n.state === 'registered')
      .slice(0, 3);
    expect(registered).toHaveLength(3);
    for (const n of registered) await page.click(`[data-node-id="${n.id}"] input[type=checkbox]`);
    expect(await page.textContent('[data-test="selected-count"]')).toContain('3 selected');
    await page.click('[data-test="bind-open"]');
    await page.click('[data-test="bind-policy"]');
    await page.click('.n-base-select-option:has-text("e2e-install")');
    await expect.poll(() => page.locator('.n-base-select-menu:visible').count()).toBe(0);
    await shot(page, 'bind-dialog');
    await page.click('[data-test="bind-confirm"]');
    const stepIs = (id: number, steps: string[]): string => steps.map((st) => `[data-bind-node="${id}"][data-step="${st}"]`).join(', ');
    for (const n of registered) await page.waitForSelector(stepIs(n.id, ['bound', 'installing', 'installed']), { timeout: 30_000 });
    await shot(page, 'bind-bound');
    // Each bound node reboots at its next check-in and its installer reports in: bound -> installing.
    for (const n of registered) await page.waitForSelector(stepIs(n.id, ['installing', 'installed']), { timeout: 60_000 });
    await shot(page, 'bind-progress');
    const after = await Promise.all(registered.map((n) => appliance.api<Node>('GET', `/api/v1/nodes/${n.id}`)));
    expect(after.map((n) => n.policy)).toEqual(['e2e-install', 'e2e-install', 'e2e-install']);
    await page.keyboard.press('Escape');
    const policies = (await appliance.api<{ policies: Policy[] }>('GET', '/api/v1/policies')).policies;
    expect(policies.find((p) => p.name === 'e2e-install')?.bound_count).toBe(3);
  });

  it('rejects a bad rule with the message naming its position', async () => {
    await page.goto(`${appliance.adminUrl}/#/tags`);
    await page.click('[data-test="new-tag"]');
    await page.fill('[data-test="tag-name-input"] input', 'e2e-bad');
    await page.fill('[data-test="rule-input"] textarea', '["and", ["equals", ["fact", "manufacturer"], "Dell Inc."]]');
    const err = page.locator('[data-test="rule-error"]');
    await err.waitFor();
    expect(await err.textContent()).toContain('rule[1][0]: unknown operator "equals"');
    await page.click('[data-test="tag-save-button"]');
    await page.waitForSelector('[data-test="tag-editor"] [data-test="error-box"]');
    expect(await page.textContent('[data-test="tag-editor"] [data-test="error-box"]')).toContain('CC_ERR_RULE_INVALID');
    await shot(page, 'tags-rule-error');
    // A good rule previews its matches live.
    await page.fill('[data-test="rule-input"] textarea', '["=", ["fact", "is_virtual"], false]');
    await page.waitForSelector('[data-test="rule-preview"]');
    expect(await page.textContent('[data-test="rule-preview"]')).toMatch(/\d+ of \d+ node\(s\) match/);
  });

  it('finds a serial number in the facts tree of a node', async () => {
    const n = (await appliance.api<{ nodes: Node[] }>('GET', '/api/v1/nodes?limit=1000')).nodes.find(
      (x) => x.state !== 'discovered' && x.serial,
    )!;
    await page.goto(`${appliance.adminUrl}/#/nodes/${n.id}`);
    await page.waitForSelector('[data-test="node-title"]');
    // The Disks card shows what root device hints match (serial, WWN, SCSI address), to copy into a policy.
    const inv = await appliance.api<{ inventory: { disks: { name: string; serial?: string; wwn?: string }[] } }>(
      'GET',
      `/api/v1/nodes/${n.id}/facts`,
    );
    const disk = inv.inventory.disks.find((d) => d.serial)!;
    expect(disk, JSON.stringify(inv.inventory.disks)).toBeDefined();
    await page.waitForSelector('[data-test="disk-line"]');
    const line = (await page.locator('[data-test="disk-line"]').allTextContents()).find((t) => t.includes(disk.name))!;
    expect(line).toContain(`serial ${disk.serial}`);
    if (disk.wwn) expect(line).toContain(`wwn ${disk.wwn}`);
    await shot(page, 'node-detail');
    await page.click('.n-tabs-tab:has-text("Facts")');
    await page.fill('[data-test="facts-search"] input', n.serial!);
    await page.waitForSelector('[data-test="facts-matches"]');
    expect(Number((await page.textContent('[data-test="facts-matches"]'))!.split(' ')[0])).toBeGreaterThanOrEqual(1);
    expect(await page.textContent('[data-test="facts-tree"]')).toContain(`serialnumber = ${n.serial}`);
    await shot(page, 'node-facts');
  });

  it('creates a tag straight from a fact, and explains why a node does not match', async () => {
    const n = (await appliance.api<{ nodes: Node[] }>('GET', '/api/v1/nodes?limit=1000')).nodes.find(
      (x) => x.serial && x.state !== 'discovered',
    )!;
    await page.goto(`${appliance.adminUrl}/#/nodes/${n.id}`);
    await page.click('.n-tabs-tab:has-text("Facts")');
    await page.fill('[data-test="facts-search"] input', 'serialnumber');
    await page.click('.n-tree-node:has-text("serialnumber =") [data-test="tag-from-fact"]');
    await page.fill('[data-test="tag-from-fact-dialog"] [data-test="tag-name"] input', 'e2e-this-serial');
    await page.click('[data-test="tag-save"]');
    await page.waitForSelector('[data-test="tag-from-fact-dialog"]', { state: 'detached' });
    const tags = (await appliance.api<{ tags: Array<{ name: string; rule: unknown[]; node_count: number }> }>('GET', '/api/v1/tags')).tags;
    const made = tags.find((t) => t.name === 'e2e-this-serial');
    expect(made?.rule).toEqual(['=', ['fact', 'serialnumber'], n.serial]);

    // "Why not" for another node, in the rule editor.
    const other = (await appliance.api<{ nodes: Node[] }>('GET', '/api/v1/nodes?limit=1000')).nodes.find((x) => x.id !== n.id && x.serial)!;
    await page.goto(`${appliance.adminUrl}/#/tags`);
    await page.click('[data-tag="e2e-this-serial"] a');
    await page.waitForSelector('[data-test="rule-preview"]');
    expect(await page.textContent('[data-test="rule-preview"]')).toContain('1 of');
    await page.click('[data-test="why-node"]');
    await page.keyboard.type(`#${other.id} `);
    await page.click(`.n-base-select-option:has-text("#${other.id} ")`);
    await page.waitForSelector('[data-test="why-answer"]');
    await expect.poll(() => page.locator('.n-base-select-menu:visible').count()).toBe(0);
    const why = await page.textContent('[data-test="why-answer"]');
    expect(why).toContain('Does not match');
    expect(why).toContain(other.serial!);
    await shot(page, 'tags-why-not');
  });

  it('reorders policies by drag and drop and switches one off', async () => {
    const task = (await appliance.api<{ tasks: Task[] }>('GET', '/api/v1/tasks')).tasks[0]!;
    await appliance.api('POST', '/api/v1/policies', { name: 'e2e-second', task: task.name, tags: ['e2e-nobody'], max_count: 5 });
    await page.goto(`${appliance.adminUrl}/#/policies`);
    await page.waitForSelector('[data-policy="e2e-second"]');
    await page.dragAndDrop('[data-policy="e2e-second"] .grip', '[data-policy="e2e-install"]');
    await page.waitForFunction(
      () =>
        (globalThis as unknown as PageWindow).document.querySelector('[data-test="policy-list"] .prow')?.dataset.policy === 'e2e-second',
    );
    const order = async (): Promise<string[]> =>
      (await appliance.api<{ policies: Policy[] }>('GET', '/api/v1/policies')).policies.map((p) => p.name).slice(0, 2);
    await expect.poll(order).toEqual(['e2e-second', 'e2e-install']);
    expect(await page.textContent('[data-policy="e2e-second"] .slots')).toContain('0 / 5 slots');
    await page.click('[data-policy="e2e-second"] [data-test="policy-enabled"]');
    await expect.poll(async () => (await appliance.api<Policy>('GET', '/api/v1/policies/e2e-second')).enabled).toBe(false);
  });

  it('imports a kernel and initrd with a progress bar', async () => {
    await page.goto(`${appliance.adminUrl}/#/images`);
    await page.fill('[data-test="image-name"] input', 'e2e-image');
    await page.setInputFiles('[data-test="image-files"]', [
      { name: 'vmlinuz', mimeType: 'application/octet-stream', buffer: Buffer.alloc(3 << 20, 1) },
      { name: 'initrd.img', mimeType: 'application/octet-stream', buffer: Buffer.alloc(5 << 20, 2) },
    ]);
    await page.click('[data-test="image-import"]');
    await page.waitForSelector('[data-image="e2e-image"]', { timeout: 30_000 });
    const images = (
      await appliance.api<{ images: Array<{ name: string; files: Array<{ name: string; size: number }> }> }>('GET', '/api/v1/images')
    ).images;
    const img = images.find((i) => i.name === 'e2e-image');
    expect(img?.files.map((f) => [f.name, f.size]).sort()).toEqual([
      ['initrd.img', 5 << 20],
      ['vmlinuz', 3 << 20],
    ]);
  });

  it('previews a task rendered for a chosen node', async () => {
    const n = (await appliance.api<{ nodes: Node[] }>('GET', '/api/v1/nodes?limit=1000')).nodes[0]!;
    await page.goto(`${appliance.adminUrl}/#/tasks`);
    await page.click('[data-task="local-disk"]');
    await page.click('.n-select:has-text("node")');
    await page.keyboard.type(`#${n.id} `);
    await page.click(`.n-base-select-option:has-text("#${n.id} ")`);
    await expect.poll(() => page.locator('.n-base-select-menu:visible').count()).toBe(0);
    await page.click('[data-test="task-preview"]');
    await page.waitForSelector('[data-test="task-preview-output"]');
    const out = await page.textContent('[data-test="task-preview-output"]');
    expect(out).toContain('#!ipxe');
    // The script is rendered for that node: its stage URL names it.
    expect(out).toContain(`/nodes/${n.id}/stage`);
    await shot(page, 'task-preview');
  });

  it('renders every screen in light and dark without page errors', async () => {
    for (const theme of ['light', 'dark'] as const) {
      await page.goto(`${appliance.adminUrl}/#/nodes`);
      await setTheme(page, theme);
      for (const [screen, ready] of Object.entries(SCREEN_READY)) {
        await page.goto(`${appliance.adminUrl}/#/${screen}`);
        await page.waitForSelector(ready);
        // Let lists fetched after mount paint before the picture is taken (not an assertion).
        await page.waitForTimeout(400);
        expect(await page.locator('main.content').innerText()).not.toBe('');
        await shot(page, `screen-${screen}`);
      }
      const n = (await appliance.api<{ nodes: Node[] }>('GET', '/api/v1/nodes?limit=5')).nodes[0]!;
      await page.goto(`${appliance.adminUrl}/#/nodes/${n.id}`);
      await page.waitForSelector('[data-test="boot-timeline"]');
      await shot(page, 'screen-node');
    }
    expect(browser.pageErrors).toEqual([]);
  });

  it('shows a designed screen when the token is wrong', async () => {
    const other = await launchBrowser();
    try {
      await other.page.goto(`${appliance.adminUrl}/#login=not-a-valid-code`);
      await other.page.waitForSelector('[data-test="not-signed-in"]');
      expect(await other.page.textContent('[data-test="not-signed-in"]')).toContain('Not signed in');
      await shot(other.page, 'signin-error');
      await other.page.fill('[data-test="token-input"] input', appliance.token);
      await other.page.click('button:has-text("Sign in")');
      await other.page.waitForSelector('[data-test="nodes-table"]');
    } finally {
      await other.close();
    }
  });

  it('tells the operator when the appliance goes away', async () => {
    await page.goto(`${appliance.adminUrl}/#/nodes`);
    await page.waitForSelector('[data-test="stream-state"]:has-text("live")');
    await appliance.stop();
    await page.waitForSelector('[data-test="appliance-lost"]', { timeout: 30_000 });
    expect(await page.textContent('[data-test="appliance-lost"]')).toContain('Lost contact with the appliance');
    // What was known stays on screen.
    expect(await page.locator('[data-test="nodes-table"] .tr').count()).toBeGreaterThan(0);
    await shot(page, 'appliance-lost');
  });
});
