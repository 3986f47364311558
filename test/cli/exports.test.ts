/**
 * The export renderers against their consumers: Ansible's own parser
 * (`ansible-inventory --list`, Debian ansible-core), and, for the tools that do
 * not run here, their published schemas and field lists
 * (test/fixtures/exports, PROVENANCE.md) read by a real YAML parser (PyYAML)
 * and a real CSV reader (Python's csv). Node text is hostile throughout.
 */
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import type { Node } from '../../contract/index.ts';
import type { ExportInput, ExportNode } from '../../server/export/export-input.ts';
import { renderAnsible } from '../../server/export/ansible.ts';
import { renderTinkerbell } from '../../server/export/tinkerbell.ts';
import { renderIronic } from '../../server/export/ironic.ts';
import { NETBOX_PARTS, renderNetbox } from '../../server/export/netbox.ts';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { inventory } from '../support/protocol-node.ts';
import { tmpDir } from '../support/appliance.ts';

const FIX = path.join(REPO_ROOT, 'test', 'fixtures', 'exports');
const fixture = <T>(f: string) => JSON.parse(fs.readFileSync(path.join(FIX, f), 'utf8')) as T;

/** Text a hostile machine (or a careless operator) could put into node fields. */
const EVIL_HOST = 'a: b\n- evil';
const EVIL_SERIAL = 'x"\n  injected: 1\n---\nkind: Secret';
const EVIL_MAKER = '=HYPERLINK("http://attacker/x","click")';
const EVIL_PRODUCT = 'R640\u2028\u0085\u001b[31mred\u0000 #comment';

function node(id: number, over: Partial<Node> = {}): Node {
  return {
    id,
    hostname: `web${id}`,
    state: 'installed',
    macs: [`52:54:00:00:00:0${id}`, `52:54:00:00:01:0${id}`],
    boot_mac: `52:54:00:00:00:0${id}`,
    uuid: `4c4c4544-0000-1000-8000-00000000000${id}`,
    serial: `SER${id}`,
    manufacturer: 'Dell Inc.',
    product: 'PowerEdge R640',
    arch: 'x86_64',
    platform: 'efi',
    boot_mode: 'uefi',
    ip: `10.0.0.${10 + id}`,
    tags: ['web', 'dell'],
    policy: 'debian',
    bound_explicitly: false,
    efi_loader: null,
    facts_hash: null,
    created_at: '2026-11-30T00:00:00.000Z',
    registered_at: '2026-11-30T00:00:00.000Z',
    last_seen: '2026-11-30T00:00:00.000Z',
    summary: {
      cpu_model: 'Xeon',
      cpu_count: 32,
      memory_mb: 65536,
      disk_count: 1,
      disk_total_bytes: 480e9,
      nic_count: 2,
      bmc_ip: '10.1.0.5',
    },
    metadata: {},
    conflicts: [],
    approved: true,
    hostname_locked: false,
    ip_reserved: null,
    reservation: null,
    manifest: null,
    microkernel_version: null,
    agent_version: null,
    microkernel_outdated: false,
    facts_complete: true,
    ...over,
  };
}

const entry = (n: Node): ExportNode => ({
  node: n,
  facts: {},
  inventory: inventory({
    cpu: { model: 'Xeon', architecture: 'x86_64', threads: 32 },
    nics: n.macs.map((mac, i) => ({ name: `eno${i + 1}`, mac, speed_mbps: i === 0 ? 1000 : undefined })),
    disks: [
      { name: 'sda', size_bytes: 480e9, type: 'disk' },
      { name: '../../etc', size_bytes: 1 },
    ],
  }),
});

const input: ExportInput = {
  nodes: [
    entry(node(1)),
    entry(node(2, { hostname: EVIL_HOST, serial: EVIL_SERIAL, manufacturer: EVIL_MAKER, product: EVIL_PRODUCT, tags: [], policy: null })),
    entry(node(3, { hostname: null, ip: null, boot_mode: 'bios', summary: { ...node(3).summary, bmc_ip: null } })),
  ],
  prefix: 24,
  exportedAt: '2026-11-30T00:00:00.000Z',
};

/** PyYAML's safe loader (Debian python3-yaml): every document of a stream, as JSON. */
function pyYaml(text: string): unknown[] {
  const out = execFileSync('python3', ['-c', 'import sys,yaml,json; json.dump(list(yaml.safe_load_all(sys.stdin)), sys.stdout)'], {
    input: text,
    encoding: 'utf8',
  });
  return JSON.parse(out) as unknown[];
}

/** Python's csv module reading an export: the header and the rows as objects. */
function pyCsv(text: string): Record<string, string>[] {
  const code = 'import sys,csv,json,io; json.dump(list(csv.DictReader(io.StringIO(sys.stdin.read(), newline=""))), sys.stdout)';
  return JSON.parse(execFileSync('python3', ['-c', code], { input: text, encoding: 'utf8' })) as Record<string, string>[];
}

describe('exports', () => {
  it('ansible: ansible-inventory parses it, groups by tag and policy, and node text cannot add keys or hosts', async () => {
    const dir = await tmpDir('cc-ansible-');
    const file = path.join(dir, 'inventory.yml');
    fs.writeFileSync(file, renderAnsible(input));
    const env = {
      ...process.env,
      HOME: dir,
      ANSIBLE_LOCAL_TEMP: dir,
      ANSIBLE_INVENTORY_UNPARSED_FAILED: 'true',
      ANSIBLE_INVENTORY_ENABLED: 'yaml',
    };
    const inv = JSON.parse(execFileSync('ansible-inventory', ['-i', file, '--list'], { encoding: 'utf8', env })) as {
      _meta: { hostvars: Record<string, Record<string, unknown>> };
      [group: string]: unknown;
    };
    expect(Object.keys(inv._meta.hostvars).sort()).toEqual(['node-2', 'node-3', 'web1']);
    expect(inv._meta.hostvars.web1!.ansible_host).toBe('10.0.0.11');
    expect(inv._meta.hostvars['node-3']!.ansible_host).toBeUndefined();
    const evil = inv._meta.hostvars['node-2']!;
    expect(evil.crashcart_hostname).toBe(EVIL_HOST);
    expect(evil.crashcart_serial).toBe(EVIL_SERIAL);
    expect(evil.crashcart_manufacturer).toBe(EVIL_MAKER);
    expect(evil.crashcart_product).toBe(EVIL_PRODUCT);
    expect(Object.keys(evil).sort()).toEqual(Object.keys(inv._meta.hostvars.web1!).sort());
    expect(JSON.stringify(inv)).not.toMatch(/"(evil|injected|a)":/);
    expect((inv.tag_web as { hosts: string[] }).hosts.sort()).toEqual(['node-3', 'web1']);
    expect((inv.policy_debian as { hosts: string[] }).hosts.sort()).toEqual(['node-3', 'web1']);
  });

  it('tinkerbell: every document is a Hardware the published field list accepts, and node text stays a string', () => {
    const docs = pyYaml(renderTinkerbell(input)) as {
      metadata: { name: string };
      spec: { interfaces: { dhcp: { mac: string } }[]; disks: { device: string }[] };
    }[];
    expect(docs).toHaveLength(3);
    const validate = new Ajv({ strict: false }).compile(fixture('tinkerbell-hardware.schema.json'));
    for (const d of docs) expect(validate(d), JSON.stringify(validate.errors)).toBe(true);
    expect(docs[0]!.spec.interfaces.map((i) => i.dhcp.mac)).toEqual(['52:54:00:00:00:01', '52:54:00:00:01:01']);
    // A disk name that is a path is not handed on as a device.
    expect(docs[0]!.spec.disks).toEqual([{ device: '/dev/sda' }]);
    expect(docs[1]!.metadata.name).toBe('node-2-2');
    expect(new Set(docs.map((d) => d.metadata.name)).size).toBe(3);
  });

  it('ironic: a baremetal create resources file the API field lists accept, with ports and the inventory', () => {
    const doc = JSON.parse(renderIronic(input)) as { nodes: Record<string, any>[] };
    const validate = new Ajv({ strict: false }).compile(fixture('ironic-create.schema.json'));
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    const [a, b, c] = doc.nodes;
    expect(a!.driver).toBe('ipmi');
    expect(a!.driver_info).toEqual({ ipmi_address: '10.1.0.5' });
    expect(a!.properties).toEqual({ cpus: 32, memory_mb: 65536, local_gb: 447, cpu_arch: 'x86_64', capabilities: 'boot_mode:uefi' });
    expect(a!.ports).toEqual([
      { address: '52:54:00:00:00:01', pxe_enabled: true },
      { address: '52:54:00:00:01:01', pxe_enabled: false },
    ]);
    expect(a!.extra.crashcart_inventory.interfaces[0]).toEqual({ name: 'eno1', mac_address: '52:54:00:00:00:01', ipv4_address: null });
    expect(b!.extra.crashcart_serial).toBe(EVIL_SERIAL);
    expect(c!.driver).toBe('manual-management');
  });

  it('netbox: each import has NetBox columns (all required ones), one row per device/NIC/IP, and no live formulas', () => {
    const fields = fixture<Record<string, { fields: string[]; required: string[] }> & { choices: Record<string, string[]> }>(
      'netbox-import-fields.json',
    );
    const counts: Record<string, number> = {};
    for (const part of NETBOX_PARTS) {
      const text = renderNetbox(input, part);
      const rows = pyCsv(text);
      const header = text.split('\r\n')[0]!.split(',');
      for (const h of header) expect(fields[part]!.fields, `${part} column ${h}`).toContain(h);
      for (const r of fields[part]!.required) expect(header, `${part} needs ${r}`).toContain(r);
      counts[part] = rows.length;
      if (part === 'devices') {
        for (const r of rows) expect(fields.choices.device_status).toContain(r.status);
        const evil = rows.find((r) => r.name === 'node-2')!;
        expect(evil.manufacturer).toBe(`'${EVIL_MAKER}`);
        expect(evil.serial).toBe(EVIL_SERIAL);
      }
      if (part === 'ip-addresses') expect(rows.map((r) => r.address)).toEqual(['10.0.0.11/24', '10.0.0.12/24']);
    }
    expect(counts).toEqual({ devices: 3, interfaces: 6, 'ip-addresses': 2 });
  });
});
