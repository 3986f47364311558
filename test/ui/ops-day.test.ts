/**
 * The screens of issue 15 in Debian's chromium against a running appliance (simulated rack): the policy
 * form (task fields, SSH keys checked per line, write-only password, metadata rows, the unreachable
 * confirmation), the rack manifest (file preview per row, import, expected vs unexpected machines), the
 * node page settings (hostname, static address, metadata key by key, discovery versions) and the node
 * table's expected records and older-microkernel filter. Screenshots: test-output/ui/ops-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Node } from '../../contract/node.ts';
import type { Policy } from '../../contract/admin.ts';
import { startAppliance, type Appliance } from './appliance.ts';
import { ensureUiBuilt } from './ui-build.ts';
import { launchBrowser, shot, type Browser } from './browser.ts';

let appliance: Appliance;
let browser: Browser;
let page: Page;

/** A well-formed ed25519 public key line (RFC 8709: string "ssh-ed25519", string of 32 bytes). */
function ed25519Key(comment: string): string {
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  const blob = Buffer.concat([str(Buffer.from('ssh-ed25519')), str(Buffer.alloc(32, 7))]);
  return `ssh-ed25519 ${blob.toString('base64')} ${comment}`;
}
const REPO = 'http://mirror.example/rocky/9/BaseOS/x86_64/os/';

beforeAll(async () => {
  await ensureUiBuilt();
  [appliance, browser] = await Promise.all([startAppliance(['--lab', 'sim:2']), launchBrowser()]);
  // Both simulated machines first: the node counts below are read once and compared with the screen.
  await appliance.nodesRegistered(2);
  page = browser.page;
  await page.goto(appliance.loginUrl);
  await page.waitForSelector('[data-test="stream-state"]:has-text("live")');
}, 240_000);
afterAll(async () => {
  await browser?.close();
  await appliance?.stop();
});

describe('policy form', () => {
  it('renders the task fields, checks SSH keys per line, hashes the password, keeps metadata', async () => {
    await appliance.api('POST', '/api/v1/policies', {
      name: 'ui-rocky',
      task: 'rocky',
      metadata: { repo_url: REPO },
      confirm_unreachable: true,
    });
    await page.goto(`${appliance.adminUrl}/#/policies`);
    const login = page.locator('[data-policy="ui-rocky"] [data-test="policy-login"]');
    expect(await login.textContent()).toContain('nobody can log in');
    await page.click('[data-policy="ui-rocky"] a.link');
    const field = page.locator('[data-test="policy-field-repo_url"] input');
    expect(await field.inputValue()).toBe(REPO);

    // The field is required and must be a URL: the save button waits until it is.
    await field.fill('');
    expect(await page.textContent('[data-test="policy-problems"]')).toContain('required by this task');
    expect(await page.isDisabled('[data-test="policy-save"]')).toBe(true);
    await field.fill('mirror without scheme');
    expect(await page.textContent('[data-test="policy-problems"]')).toContain('not a URL');
    await field.fill(REPO);

    // A wrapped key (cut base64) and a private key are refused line by line; a good one is named.
    const keys = page.locator('[data-test="policy-keys"] textarea');
    await keys.fill(`${ed25519Key('ops@laptop')}\nssh-ed25519 AAAAC3Nz\n-----BEGIN OPENSSH PRIVATE KEY-----`);
    const checks = page.locator('[data-test="policy-key-check"]');
    expect(await checks.count()).toBe(3);
    expect(await checks.nth(0).textContent()).toContain('✓ key 1: ssh-ed25519 · ops@laptop');
    expect(await checks.nth(1).textContent()).toContain('a length runs past its end');
    expect(await checks.nth(2).textContent()).toContain('private key');
    expect(await page.isDisabled('[data-test="policy-save"]')).toBe(true);
    await keys.fill('');
    // Loaded from a .pub file, the way an operator picks ~/.ssh/id_ed25519.pub.
    await page.setInputFiles('[data-test="policy-keys-file"]', {
      name: 'id_ed25519.pub',
      mimeType: 'text/plain',
      buffer: Buffer.from(`${ed25519Key('ops@laptop')}\n`),
    });
    // The page reads the file asynchronously (File.text()): wait for it, as an operator would.
    await expect.poll(() => keys.inputValue()).toBe(ed25519Key('ops@laptop'));

    await page.fill('[data-test="policy-password"] input', 'correct horse battery');
    await page.click('[data-test="metadata-add"]');
    await page.fill('[data-test="metadata-row"] >> nth=0 >> [data-test="metadata-key"] input', 'site');
    await page.fill('[data-test="metadata-row"] >> nth=0 >> [data-test="metadata-value"] input', 'fra1');
    await shot(page, 'ops-policy-form');
    await page.click('[data-test="policy-save"]');
    await page.waitForSelector('[data-test="policy-form"]', { state: 'detached' });

    const p = await appliance.api<Policy & Record<string, unknown>>('GET', '/api/v1/policies/ui-rocky');
    expect(p).toMatchObject({ root_password_set: true, unreachable: false, metadata: { repo_url: REPO, site: 'fra1' } });
    expect(p.ssh_keys).toEqual([ed25519Key('ops@laptop')]);
    expect(JSON.stringify(p)).not.toContain('correct horse');
    expect(p).not.toHaveProperty('root_password_hash');
    await page.waitForSelector('[data-policy="ui-rocky"] [data-test="policy-login"]:has-text("1 SSH key · root password set")');
    await shot(page, 'ops-policies');
  });

  it('asks before saving a policy whose machines nobody could log in to', async () => {
    await page.click('[data-test="new-policy"]');
    await page.fill('[data-test="policy-name"] input', 'ui-locked');
    await page.click('[data-test="policy-task"]');
    await page.click('.n-base-select-option:has-text("rocky")');
    await page.fill('[data-test="policy-field-repo_url"] input', REPO);
    await page.click('[data-test="policy-save"]');
    const alert = page.locator('[data-test="policy-unreachable"]');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('no SSH key and no root password');
    await shot(page, 'ops-policy-unreachable');
    expect((await appliance.api<{ policies: Policy[] }>('GET', '/api/v1/policies')).policies.map((x) => x.name)).not.toContain('ui-locked');
    await page.click('[data-test="policy-confirm-unreachable"]');
    await page.waitForSelector('[data-policy="ui-locked"] [data-test="policy-login"]:has-text("nobody can log in")');
  });
});

describe('rack manifest', () => {
  const CSV = [
    'serial,mac,hostname,ip,policy,bmc_address,rack',
    'UI-0001,52:54:00:ee:00:01,rack-a1,10.77.0.11,ui-rocky,10.99.0.1,A',
    'UI-0002,,rack-a2,,,,=cmd|calc',
    'UI-0003,,bad_name,10.0.0.999,,,B',
  ].join('\r\n');

  it('previews a file row by row, imports the good rows, lists who has not appeared', async () => {
    await page.goto(`${appliance.adminUrl}/#/manifest`);
    await page.waitForSelector('[data-test="manifest-status"]');
    await page.setInputFiles('[data-test="manifest-file"]', { name: 'rack-a.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
    expect(await page.textContent('[data-test="manifest-file-name"]')).toBe('rack-a.csv');
    await page.click('[data-test="manifest-preview"]');
    await page.waitForSelector('[data-test="manifest-plan"]');
    expect(await page.textContent('[data-test="manifest-counts"]')).toContain(
      'Would import: 2 new, 0 updated, 0 unchanged, 0 conflicts, 1 errors',
    );
    expect(await page.getAttribute('[data-row="2"]', 'data-action')).toBe('create');
    expect(await page.textContent('[data-row="2"]')).toContain('BMC address 10.99.0.1');
    expect(await page.textContent('[data-row="3"]')).toContain('spreadsheet formula');
    expect(await page.getAttribute('[data-row="4"]', 'data-action')).toBe('error');
    expect(await page.textContent('[data-row="4"]')).toContain('hostname "bad_name"');
    // A bad row blocks the import until the operator says to skip it.
    expect(await page.isDisabled('[data-test="manifest-import"]')).toBe(true);
    await shot(page, 'ops-manifest-preview');
    await page.click('[data-test="manifest-skip"]');
    await page.click('[data-test="manifest-import"]');
    await page.waitForSelector('[data-test="manifest-counts"]:has-text("Imported: 2 new")');
    await page.waitForSelector('[data-test="manifest-waiting"] [data-node]:has-text("rack-a2")');
    expect(await page.textContent('[data-test="manifest-waiting"] h2')).toContain('(2)');
    expect(await page.textContent('[data-count="waiting"]')).toContain('2');
  });

  it('a machine that boots with a row MAC takes it; one nobody listed shows as unexpected', async () => {
    const expected = (await appliance.api<{ nodes: Node[] }>('GET', '/api/v1/nodes?state=expected')).nodes;
    const a1 = expected.find((n) => n.hostname === 'rack-a1')!;
    const claimed = await fetch(`${appliance.nodeUrl}/boot?mac=52:54:00:ee:00:01&serial=UI-0001`);
    expect(claimed.ok).toBe(true);
    expect(await claimed.text()).toContain(`crashcart.node=${a1.id}`);
    expect((await fetch(`${appliance.nodeUrl}/boot?mac=52:54:00:ee:00:99&serial=STRAY-1`)).ok).toBe(true);
    await page.reload();
    await page.waitForSelector('[data-test="manifest-waiting"] h2:has-text("(1)")');
    expect(await page.textContent('[data-test="manifest-waiting"]')).not.toContain('rack-a1');
    await page.waitForSelector('[data-test="manifest-unexpected"] [data-node]:has-text("STRAY-1")');
    await shot(page, 'ops-manifest-status');

    // The node table shows expected records with their state.
    await page.goto(`${appliance.adminUrl}/#/nodes`);
    await page.fill('[data-test="node-filter"] input', 'rack-a2');
    const row = page.locator('[data-test="nodes-table"] .tr');
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.first().textContent()).toContain('expected');
    await page.fill('[data-test="node-filter"] input', '');
  });
});

describe('node page and node table', () => {
  it('sets hostname, static address and metadata key by key, and shows the discovery versions', async () => {
    const nodes = (await appliance.api<{ nodes: Node[] }>('GET', '/api/v1/nodes?limit=100')).nodes;
    const sim = nodes.find((n) => n.microkernel_version !== null);
    expect(sim, 'a simulated node registered with its versions').toBeDefined();
    await page.goto(`${appliance.adminUrl}/#/nodes/${sim!.id}`);
    await page.click('.n-tabs-tab:has-text("Settings")');
    expect(await page.textContent('[data-test="node-mk-version"]')).toBe(sim!.microkernel_version);
    expect(await page.textContent('[data-test="node-agent-version"]')).toBe(sim!.agent_version);

    await page.fill('[data-test="node-hostname"] input', 'ui-edited-01');
    await page.click('[data-test="node-hostname-save"]');
    await page.waitForSelector('[data-test="node-hostname-state"]:has-text("Set by the operator")');
    await page.fill('[data-test="node-address"] input', '10.77.0.50');
    await page.click('[data-test="node-address-save"]');
    await page.waitForSelector('[data-test="node-reservation"]:has-text("10.77.0.50")');
    await page.fill('[data-test="node-meta-new-key"] input', 'owner');
    await page.fill('[data-test="node-meta-new-value"] input', 'team-ops');
    await page.click('[data-test="node-meta-add"]');
    await page.waitForSelector('[data-test="node-meta-row"][data-key="owner"]');
    await shot(page, 'ops-node-settings');

    const after = await appliance.api<Node>('GET', `/api/v1/nodes/${sim!.id}`);
    expect(after).toMatchObject({ hostname: 'ui-edited-01', hostname_locked: true, ip_reserved: '10.77.0.50' });
    expect(after.metadata).toMatchObject({ owner: 'team-ops' });
  });

  it('filters the table to nodes discovered by an older microkernel than the one installed now', async () => {
    const nodes = (await appliance.api<{ nodes: Node[] }>('GET', '/api/v1/nodes?limit=1000')).nodes;
    const outdated = (await appliance.api<{ nodes: Node[] }>('GET', '/api/v1/nodes?outdated_microkernel=true&limit=1000')).nodes;
    expect(outdated.length).toBe(nodes.filter((n) => n.microkernel_outdated).length);
    await page.goto(`${appliance.adminUrl}/#/nodes`);
    await page.waitForSelector('[data-test="nodes-table"] .tr');
    expect(await page.textContent('[data-test="facet-outdated-mk"]')).toContain(`(${outdated.length})`);
    await page.click('[data-test="facet-outdated-mk"]');
    await expect.poll(() => page.textContent('[data-test="node-count"]')).toContain(`${outdated.length} of ${nodes.length}`);
    await shot(page, 'ops-nodes-outdated');
  });
});
