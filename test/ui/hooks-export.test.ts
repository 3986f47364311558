/**
 * The nodes screen's Export menu and the Hooks screen (issue 15, "Hooks and hand-off") in Debian's chromium
 * against a running appliance: the Ansible export downloaded for all nodes parses with Debian's
 * `ansible-inventory --list`; the JSON export of a selection holds exactly the selection; a webhook made in
 * the form, pointed at a real receiver on loopback that refuses the first test-fire, shows its test-fire
 * retrying with a next retry and then ok, and a machine's registration as a delivery; the secret is never
 * shown; edit and delete. Light and dark screenshots: test-output/ui/hooks-*.png, export-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import type { Node } from '../../contract/node.ts';
import type { Hook } from '../../contract/hooks.ts';
import { startAppliance, type Appliance } from './appliance.ts';
import { ensureUiBuilt } from './ui-build.ts';
import { launchBrowser, setTheme, shot, type Browser } from './browser.ts';
import { tmpDir } from '../support/appliance.ts';
import { registerMachine } from '../cli/cli-kit.ts';
import { verifySignature } from '../../server/hooks/hook-sign.ts';

const SECRET = 'ui-hook-secret-' + 's'.repeat(20);
/** Test-fires the receiver refuses: retries come after 1, 2 and 4 s, so the log shows `retrying` for seconds, not one. */
const REFUSED = 3;
let appliance: Appliance;
let browser: Browser;
let page: Page;
let receiver: http.Server;
let dir: string;
const received: { body: string; signed: boolean; status: number; test: boolean }[] = [];

/** Choose one entry of the Export menu and save the download; resolves with the file's path. */
async function download(key: string): Promise<string> {
  await page.click('[data-test="export-menu"]');
  const [d] = await Promise.all([page.waitForEvent('download'), page.click(`[data-export="${key}"]`)]);
  const file = path.join(dir, d.suggestedFilename());
  await d.saveAs(file);
  return file;
}

beforeAll(async () => {
  dir = await tmpDir('cc-ui-export-');
  // The receiver checks the signature the way docs/hooks.md says and refuses the first REFUSED test-fire requests.
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const ts = Number(req.headers['x-crashcart-timestamp']);
      const signed = verifySignature(SECRET, String(req.headers['x-crashcart-signature']), ts, body, Math.floor(Date.now() / 1000));
      const test = /"event":"test"/.test(body);
      const status = !signed ? 401 : test && received.filter((r) => r.test).length < REFUSED ? 500 : 204;
      received.push({ body, signed, status, test });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  await ensureUiBuilt();
  [appliance, browser] = await Promise.all([startAppliance(['--lab', 'sim:2']), launchBrowser()]);
  page = browser.page;
  // Both simulated machines register before anything is counted: a late one would land in the export or the hook log.
  await appliance.nodesRegistered(2);
  await page.goto(appliance.loginUrl);
  await page.waitForSelector('[data-test="stream-state"]:has-text("live")');
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await appliance?.stop();
  receiver?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('Export menu', { timeout: 180_000 }, () => {
  it('downloads the Ansible inventory of every node, which ansible-inventory parses; JSON of a selection holds only it', async () => {
    await page.goto(`${appliance.adminUrl}/#/nodes`);
    await page.waitForSelector('[data-test="nodes-table"] .tr');
    const nodes = (await appliance.api<{ nodes: Node[] }>('GET', '/api/v1/nodes?limit=1000')).nodes;
    expect(nodes.length).toBeGreaterThanOrEqual(1);

    const inv = await download('all:ansible:');
    expect(path.basename(inv)).toBe('crashcart-inventory.yml');
    const env = { ...process.env, HOME: dir, ANSIBLE_LOCAL_TEMP: dir, ANSIBLE_INVENTORY_UNPARSED_FAILED: 'true' };
    const parsed = JSON.parse(execFileSync('ansible-inventory', ['-i', inv, '--list'], { encoding: 'utf8', env })) as {
      _meta: { hostvars: Record<string, { crashcart_id: number }> };
    };
    expect(
      Object.values(parsed._meta.hostvars)
        .map((h) => h.crashcart_id)
        .sort(),
    ).toEqual(nodes.map((n) => n.id).sort());

    // Select the first row: the menu offers the selection, and the JSON holds that node only.
    const first = page.locator('[data-test="nodes-table"] .tr').first();
    const id = Number(await first.getAttribute('data-node-id'));
    await first.locator('input[type="checkbox"]').click();
    await page.waitForSelector('[data-test="export-menu"]:has-text("1 selected")');
    await page.click('[data-test="export-menu"]');
    for (const f of ['ansible', 'netbox', 'tinkerbell', 'ironic', 'json', 'csv'])
      expect(await page.locator(`[data-export^="sel:${f}:"]`).count()).toBeGreaterThan(0);
    await shot(page, 'export-menu');
    await setTheme(page, 'dark');
    await shot(page, 'export-menu');
    await setTheme(page, 'light');
    await page.keyboard.press('Escape');
    const json = JSON.parse(fs.readFileSync(await download('sel:json:'), 'utf8')) as { nodes: Node[] };
    expect(json.nodes.map((n) => n.id)).toEqual([id]);
    // A selection that is not a list of ids is refused, not guessed at.
    const bad = await fetch(`${appliance.adminUrl}/api/v1/export/json?ids=1;2`, {
      headers: { authorization: `Bearer ${appliance.token}` },
    });
    expect(bad.status).toBe(400);
    // NetBox's interfaces import of the selection: its header, and the selected node's MACs only.
    const ifaces = fs.readFileSync(await download('sel:netbox:interfaces'), 'utf8');
    expect(ifaces.split('\r\n')[0]).toMatch(/^device,name,type,enabled,mac_address/);
    for (const n of nodes) for (const mac of n.macs) expect(ifaces.includes(mac.toUpperCase())).toBe(n.id === id);
  });
});

describe('Hooks screen', { timeout: 180_000 }, () => {
  it('creates a signed webhook, test-fires it (retrying, then ok), logs a registration, keeps the secret hidden', async () => {
    await page.goto(`${appliance.adminUrl}/#/hooks`);
    await page.click('[data-test="new-hook"]');
    await page.fill('[data-test="hook-name"] input', 'ui-receiver');
    await page.fill('[data-test="hook-url"] input', 'not a url');
    expect(await page.textContent('[data-test="hook-problems"]')).toContain('http:// or https://');
    expect(await page.isDisabled('[data-test="hook-save"]')).toBe(true);
    await page.fill('[data-test="hook-url"] input', `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`);
    await page.fill('[data-test="hook-secret"] input', SECRET);
    await page.click('[data-test="hook-save"]');
    await page.waitForSelector('[data-hook="ui-receiver"] [data-test="hook-secret-state"]:has-text("set")');
    const [hook] = (await appliance.api<{ hooks: Hook[] }>('GET', '/api/v1/hooks')).hooks;
    expect(hook).toMatchObject({ name: 'ui-receiver', kind: 'webhook', events: ['registered'], has_secret: true });

    // Test-fire: the receiver refuses the first request, so the log shows it retrying with a next retry, then ok.
    await page.click('[data-hook="ui-receiver"] [data-test="hook-test"]');
    // One selector for the whole row state, so the assertion cannot straddle a poll of the log.
    await page.waitForSelector(
      '[data-test="hook-deliveries"] tr[data-event="test"][data-status="retrying"][data-next]:has([data-test="delivery-error"]:has-text("HTTP 500"))',
    );
    await shot(page, 'hooks-retrying');
    const test = page.locator('[data-test="hook-deliveries"] tr[data-delivery][data-event="test"]');
    await page.waitForSelector('[data-test="hook-deliveries"] tr[data-event="test"][data-status="ok"]');
    expect(await test.locator('[data-test="delivery-attempts"]').textContent()).toBe(String(REFUSED + 1));
    expect(await test.locator('[data-test="delivery-next"]').textContent()).toBe('—');
    expect(received.filter((r) => r.test).map((r) => [r.signed, r.status])).toEqual([
      ...Array.from({ length: REFUSED }, () => [true, 500]),
      [true, 204],
    ]);

    // A machine registers: its delivery appears in the open log with its node.
    const nodeId = await registerMachine(appliance.nodeUrl, '52:54:00:15:0e:01');
    await page.waitForSelector(`[data-test="hook-deliveries"] tr[data-status="ok"]:has(a[href="#/nodes/${nodeId}"])`);
    const delivered = received.filter((r) => !r.test).map((r) => JSON.parse(r.body) as { event: string; node: { id: number } });
    expect(delivered.filter((b) => b.node.id === nodeId)).toMatchObject([{ event: 'registered', node: { id: nodeId } }]);
    expect(await page.content()).not.toContain(SECRET);
    await shot(page, 'hooks');
    await setTheme(page, 'dark');
    await shot(page, 'hooks');
    await setTheme(page, 'light');
  });

  it('edits a hook without retyping its secret, then deletes it with its log', async () => {
    await page.click('[data-hook="ui-receiver"] [data-test="hook-edit"]');
    expect(await page.getAttribute('[data-test="hook-secret"] input', 'placeholder')).toContain('set (hidden)');
    expect(await page.inputValue('[data-test="hook-secret"] input')).toBe('');
    await page.click('[data-test="hook-events"] [data-event="lost"]');
    await shot(page, 'hooks-edit');
    await page.click('[data-test="hook-save"]');
    await page.waitForSelector('[data-hook="ui-receiver"]:has-text("registered, lost")');
    const [hook] = (await appliance.api<{ hooks: Hook[] }>('GET', '/api/v1/hooks')).hooks;
    expect(hook).toMatchObject({ events: ['registered', 'lost'], has_secret: true });

    await page.click('[data-hook="ui-receiver"] [data-test="hook-delete"]');
    await page.click('.n-popconfirm .n-button--primary-type');
    await page.waitForSelector('[data-hook="ui-receiver"]', { state: 'detached' });
    expect((await appliance.api<{ hooks: Hook[] }>('GET', '/api/v1/hooks')).hooks).toEqual([]);
    expect(browser.pageErrors).toEqual([]);
  });
});
