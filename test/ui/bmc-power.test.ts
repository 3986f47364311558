/**
 * The BMC in the operator's UI, in chromium against a running appliance and a real Redfish BMC (sushy-tools over
 * HTTPS, fake driver: the chassis is the emulator's own state, so no guest is needed): enter a node's BMC in the
 * form (write-only password), power it on with "PXE once" from the node, see the power state in the table and
 * filter by it, run a bulk action where one node has no BMC, power off through the confirmation. The password
 * never reaches the page, the data dir or the appliance's output in clear.
 */
import type { PageWindow } from './page-dom.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Node } from '../../contract/node.ts';
import { startAppliance, type Appliance } from './appliance.ts';
import { ensureUiBuilt } from './ui-build.ts';
import { launchBrowser, shot, type Browser } from './browser.ts';
import { startNotifier, startSushy, type SushyPeer } from '../bmc/peers/sushy.ts';
import { makeCert, type TestCert } from '../bmc/peers/tls-cert.ts';

const RF_USER = 'ops';
const RF_PASSWORD = 'Ui-Redfish-Pw-7731';
const RF_UUID = '0badc0de-0000-4000-8000-0000000000c1';

let appliance: Appliance;
let browser: Browser;
let page: Page;
let dir: string;
let cert: TestCert;
let sushy: SushyPeer;
let notifier: Awaited<ReturnType<typeof startNotifier>>;
let nodes: Node[];

/** The emulated system as the BMC itself reports it (read past the appliance, with the BMC's own credentials). */
function redfishSystem(): Promise<{ PowerState: string; Boot: { BootSourceOverrideTarget: string } }> {
  return new Promise((resolve, reject) => {
    const auth = Buffer.from(`${RF_USER}:${RF_PASSWORD}`).toString('base64');
    https
      .get(
        {
          host: '127.0.0.1',
          port: sushy.port,
          path: `/redfish/v1/Systems/${RF_UUID}`,
          rejectUnauthorized: false,
          agent: false,
          headers: { Authorization: `Basic ${auth}` },
        },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`${res.statusCode}: ${body}`))));
        },
      )
      .on('error', reject);
  });
}
const nodeView = (id: number): Promise<Node> => appliance.api<Node>('GET', `/api/v1/nodes/${id}`);
const rows = (p: Page): Promise<number> => p.locator('[data-test="nodes-table"] .tr').count();

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), `cc-ui-bmc-${process.pid}-`));
  cert = makeCert(dir, 'ui-bmc');
  notifier = await startNotifier(() => undefined);
  const system = {
    uuid: RF_UUID,
    name: 'ui-node',
    power_state: 'Off' as const,
    external_notifier: false,
    nics: [{ mac: '52:54:00:c1:00:01', ip: '10.66.0.171' }],
  };
  [sushy, appliance, browser] = await Promise.all([
    startSushy({ dir, cert, username: RF_USER, password: RF_PASSWORD, systems: [system], notifierUrl: notifier.url }),
    ensureUiBuilt().then(() => startAppliance(['--lab', 'sim:4'])),
    launchBrowser(),
  ]);
  page = browser.page;
  for (let i = 0; i < 300; i++) {
    nodes = (await appliance.api<{ nodes: Node[] }>('GET', '/api/v1/nodes?limit=100')).nodes;
    if (nodes.length >= 4) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(nodes.length).toBeGreaterThanOrEqual(4);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await appliance?.stop();
  await sushy?.stop();
  await notifier?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('BMC power in the operator UI (chromium, sushy-tools)', () => {
  it('enters a Redfish BMC in the node form; the password is write-only', async () => {
    const id = nodes[0]!.id;
    await page.goto(appliance.loginUrl);
    await page.waitForSelector('[data-test="stream-state"]:has-text("live")');
    await page.goto(`${appliance.adminUrl}/#/nodes/${id}`);
    await page.click('.n-tabs-tab:has-text("BMC")');
    await page.waitForSelector('[data-test="bmc-state"]:has-text("No BMC set")');
    // No BMC yet: no power buttons on the node.
    expect(await page.locator('[data-test="power-menu"]').count()).toBe(0);
    await page.click('[data-test="bmc-driver"]');
    await page.click('.n-base-select-option:has-text("Redfish")');
    await page.fill('[data-test="bmc-address"] input', '127.0.0.1');
    await page.fill('[data-test="bmc-port"] input', String(sushy.port));
    await page.fill('[data-test="bmc-username"] input', RF_USER);
    await page.fill('[data-test="bmc-password"] input', RF_PASSWORD);
    await page.fill('[data-test="bmc-system-path"] input', `/redfish/v1/Systems/${RF_UUID}`);
    await page.click('[data-test="bmc-save"]');
    await page.waitForSelector(`[data-test="bmc-state"]:has-text("redfish 127.0.0.1:${sushy.port} as ${RF_USER} · password set")`);
    expect(await page.inputValue('[data-test="bmc-password"] input')).toBe('');
    expect(await page.getAttribute('[data-test="bmc-password"] input', 'placeholder')).toMatch(/leave blank to keep/);
    expect((await nodeView(id)).bmc).toMatchObject({ driver: 'redfish', port: sushy.port, tls: 'pin', password_set: true });

    // A bad address is refused with the server's message and fix; the stored BMC is unchanged.
    await page.fill('[data-test="bmc-address"] input', '-oProxyCommand=x');
    await page.click('[data-test="bmc-save"]');
    await page.waitForSelector('[data-test="bmc-form"] [data-test="error-box"]');
    expect(await page.textContent('[data-test="bmc-form"] [data-test="error-box"]')).toMatch(/Fix:/);
    expect((await nodeView(id)).bmc?.address).toBe('127.0.0.1');
    await page.fill('[data-test="bmc-address"] input', '127.0.0.1');
    await shot(page, 'node-bmc');
  });

  it('powers the node on with PXE once from its page: the BMC gets the override, the page shows the state', async () => {
    const id = nodes[0]!.id;
    expect((await redfishSystem()).PowerState).toBe('Off');
    await page.waitForSelector('[data-test="power-menu"]');
    await page.click('[data-test="power-pxe-once"]');
    await page.waitForSelector('[data-test="power-pxe-once"].n-checkbox--checked');
    await page.click('[data-test="power-menu"] [data-power="on"]');
    const done = await page.waitForSelector('.n-message:has-text("Power on: 1 node(s) done")');
    // sushy-tools keeps a one-time override as Continuous: the operator is told, in the outcome.
    expect(await done.textContent()).toContain('asked for BootSourceOverrideEnabled Once, the BMC reports Continuous');
    await page.waitForSelector('[data-test="node-power"]:has-text("power on")').catch(async (e: Error) => {
      const head = await page.textContent('.head');
      throw new Error(`${e.message}\nheader: ${head}\nnode: ${JSON.stringify((await nodeView(id)).power)}`);
    });
    const sys = await redfishSystem();
    expect(sys.PowerState).toBe('On');
    expect(sys.Boot.BootSourceOverrideTarget).toBe('Pxe');
    // Trust on first use: the certificate sushy presented is pinned, and the form says so.
    expect((await nodeView(id)).bmc?.tls_fingerprint).toBe(cert.fingerprint);
    await page.waitForSelector(`[data-test="bmc-state"]:has-text("certificate pinned ${cert.fingerprint.slice(0, 23)}")`);
  });

  it('shows power in the table, filters by it, and runs a bulk action with a per-node outcome', async () => {
    const [withBmc, without] = [nodes[0]!, nodes[1]!];
    await page.goto(`${appliance.adminUrl}/#/nodes`);
    await page.waitForSelector(`[data-test="nodes-table"] .tr[data-node-id="${withBmc.id}"] [data-test="power-cell"]:has-text("on")`);
    await page.click('[data-test="facet-power"]');
    await page.click('.n-base-select-option:has-text("on (1)")');
    await page.waitForFunction(
      () => (globalThis as unknown as PageWindow).document.querySelectorAll('[data-test="nodes-table"] .tr').length === 1,
    );
    expect(await page.locator('[data-test="nodes-table"] .tr').first().getAttribute('data-node-id')).toBe(String(withBmc.id));
    await page.click('.n-base-select-option:has-text("no BMC (")');
    await page.waitForFunction(
      (n) => (globalThis as unknown as PageWindow).document.querySelectorAll('[data-test="nodes-table"] .tr').length === n,
      nodes.length,
    );
    await page.keyboard.press('Escape');
    // Select a node with a BMC and one without; "Check power" reports the one that cannot.
    await page.click(`[data-test="nodes-table"] .tr[data-node-id="${withBmc.id}"] .cell:nth-child(2)`);
    await page.click(`[data-test="nodes-table"] .tr[data-node-id="${without.id}"] .cell:nth-child(2)`);
    await page.waitForSelector('[data-test="selected-count"]:has-text("2 selected")');
    await page.click('[data-test="selection-bar"] [data-power="status"]');
    await page.waitForSelector('.n-message:has-text("Check power: 1 of 2 failed")');
    expect(await rows(page)).toBe(nodes.length);
    await shot(page, 'nodes-power');
  });

  it('powers off through the confirmation; the state follows', async () => {
    const id = nodes[0]!.id;
    await page.goto(`${appliance.adminUrl}/#/nodes/${id}`);
    await page.click('[data-test="power-menu"] [data-power="off"]');
    await page.waitForSelector('.n-dialog:has-text("Power off 1 node(s)")');
    await page.click('.n-dialog__action button:has-text("Power off")');
    await page.waitForSelector('.n-message:has-text("Power off: 1 node(s) done")', { timeout: 60_000 });
    await page.waitForSelector('[data-test="node-power"]:has-text("power off")');
    expect((await redfishSystem()).PowerState).toBe('Off');
    expect(browser.pageErrors).toEqual([]);
  });

  it('the password is nowhere in clear: page, data dir, appliance output', async () => {
    expect(await page.content()).not.toContain(RF_PASSWORD);
    const hits: string[] = [];
    const walk = (d: string): void => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.isFile() && fs.readFileSync(p).includes(RF_PASSWORD)) hits.push(p);
      }
    };
    walk(appliance.dataDir);
    expect(hits).toEqual([]);
    expect(appliance.output()).not.toContain(RF_PASSWORD);
    // Positive control: the node record holds the sealed password.
    expect(fs.readFileSync(path.join(appliance.dataDir, 'db', 'nodes.db'), 'utf8')).toContain('"password_enc":"ccs1:');
  });
});
