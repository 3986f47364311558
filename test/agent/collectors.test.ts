// The one collector table (agent/collect/collectors.ts): its rows drive the live run, the replay file names
// and the parsers; the docs list every row. The live run is checked on a stub machine whose programs print
// the arguments they were called with (cli.test.ts runs the real tools on this machine).
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { COLLECTOR_LIST, COLLECTORS, forNic, isPerNic, NIC } from '../../agent/collect/collectors.ts';
import { collectLive } from '../../agent/collect/live.ts';
import { isToolFile, readToolDir } from '../../agent/collect/replay.ts';
import { buildInventory } from '../../agent/facts/inventory.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'cc-agent-collectors-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('collector table', () => {
  it('file names are unique, replay reads every one, per-NIC names only with a plain NIC name', () => {
    const all = COLLECTOR_LIST.flatMap(([, c]) => c.files);
    expect(new Set(all).size).toBe(all.length);
    for (const [key, c] of COLLECTOR_LIST) {
      for (const f of c.files) {
        const name = isPerNic(c) ? forNic(f, 'enp65s0f1') : f;
        expect(isToolFile(name), `${key}: ${name}`).toBe(true);
      }
    }
    for (const bad of ['ethtool-.txt', 'ethtool-../../etc/passwd.txt', 'ethtool-a b.txt', `ethtool-${'x'.repeat(65)}.txt`, 'notes.txt'])
      expect(isToolFile(bad), bad).toBe(false);
  });

  it('docs/agent.md lists every row: its replay file and its command line', () => {
    const doc = readFileSync(path.join(ROOT, 'docs/agent.md'), 'utf8');
    for (const [key, c] of COLLECTOR_LIST) {
      expect(doc, key).toContain(`\`${c.files[0]!.replace(NIC, '<nic>')}\``);
      if ('run' in c.source) expect(doc, key).toContain(`${c.source.run} ${c.source.args.join(' ').replace(NIC, '<nic>')}`);
    }
  });
});

describe('live run driven by the table (stub programs, fake /proc and /sys)', () => {
  it('saves each row under its first file, runs per-NIC rows per NIC, rejects, falls back, labels errors', async () => {
    const bin = path.join(tmp, 'bin');
    const root = path.join(tmp, 'root');
    mkdirSync(bin, { recursive: true });
    const iface = JSON.stringify([{ ifname: 'eth7', link_type: 'ether', address: '52:54:00:00:00:07', mtu: 1500, addr_info: [] }]);
    const stubs: Record<string, string> = {
      // A stub prints its name and arguments; ip prints one physical NIC so the per-NIC row has one to run for.
      ip: `printf '%s' '${iface}'`,
      dmidecode: 'echo "no SMBIOS here"',
      ipmitool: 'echo "Could not open device" >&2; exit 1',
    };
    for (const [, c] of COLLECTOR_LIST) {
      if (!('run' in c.source) || c.source.run === 'lspci') continue; // lspci missing: the /sys fallback is used
      const p = path.join(bin, c.source.run);
      writeFileSync(p, `#!/bin/sh\n${stubs[c.source.run] ?? 'echo "${0##*/} $*"'}\n`);
      chmodSync(p, 0o755);
    }
    for (const d of ['proc', 'sys/class/dmi/id', 'sys/firmware/efi', 'sys/bus/pci/devices/0000:00:03.0'])
      mkdirSync(path.join(root, d), { recursive: true });
    writeFileSync(path.join(root, 'proc/cpuinfo'), 'processor\t: 0\nmodel name\t: Stub CPU\nflags\t\t: fpu lm\n');
    writeFileSync(path.join(root, 'sys/class/dmi/id/sys_vendor'), 'Stub Vendor\n');
    for (const [f, v] of [
      ['class', '0x020000'],
      ['vendor', '0x1af4'],
      ['device', '0x1000'],
    ] as const)
      writeFileSync(path.join(root, 'sys/bus/pci/devices/0000:00:03.0', f), `${v}\n`);
    symlinkSync('/nonexistent/drivers/virtio-pci', path.join(root, 'sys/bus/pci/devices/0000:00:03.0/driver'));

    const savedPath = process.env['PATH'];
    process.env['PATH'] = bin;
    let out;
    try {
      out = await collectLive({ root, timeoutMs: 5000 });
    } finally {
      process.env['PATH'] = savedPath;
    }
    expect([...out.files.keys()].sort()).toEqual(
      [
        'boot-mode.txt',
        'cpuinfo',
        'dmi-id.txt',
        'ethtool-eth7.txt',
        'ip-addr.json',
        'ip-link.json',
        'lldp-frames.json',
        'lldpctl.json',
        'lscpu.json',
        'lsblk.json',
        'lshw.json',
        'lspci.txt',
      ].sort(),
    );
    expect(out.files.get('lshw.json')).toBe('lshw -json -quiet\n');
    expect(out.files.get('ethtool-eth7.txt')).toBe('ethtool -i eth7\n');
    expect(out.files.get('lldpctl.json')).toBe('lldpctl -f json\n');
    // No capture folder under this root: the microkernel's LLDP row finds no neighbour, which is not an error.
    expect(out.files.get('lldp-frames.json')).toBe('{}');
    expect(out.files.get('boot-mode.txt')).toBe('uefi');
    expect(out.files.get('dmi-id.txt')).toBe('sys_vendor=Stub Vendor');
    expect(out.files.get('lspci.txt')).toBe('Slot:\t0000:00:03.0\nClass:\t0200\nVendor:\t1af4\nDevice:\t1000\nDriver:\tvirtio-pci');
    expect(out.errors.map((e) => e.collector).sort()).toEqual([
      'dmidecode',
      'ipmitool fru',
      'ipmitool lan',
      'ipmitool mc',
      'lspci',
      'meminfo',
    ]);
    expect(out.errors.find((e) => e.collector === 'dmidecode')?.error).toMatch(/no SMBIOS table/);
    expect(out.errors.find((e) => e.collector === 'lspci')?.error).toMatch(/not installed/);

    // What the live run saved, replayed from a folder, gives the same inventory (the table's parsers on both paths).
    const dir = path.join(tmp, 'saved');
    mkdirSync(dir);
    for (const [f, t] of out.files) writeFileSync(path.join(dir, f), t);
    const replayed = await readToolDir(dir);
    expect(buildInventory({ files: replayed.files, errors: out.errors })).toEqual(buildInventory(out));
    const inv = buildInventory(out);
    expect(inv.nics.map((n) => [n.name, n.mac])).toEqual([['eth7', '52:54:00:00:00:07']]);
    expect(inv.system.manufacturer).toBe('Stub Vendor');
    expect(inv.firmware.boot_mode).toBe('uefi');
    expect(inv.pci).toEqual([{ slot: '0000:00:03.0', vendor_id: '1af4', device_id: '1000', class_id: '0200', driver: 'virtio-pci' }]);
    expect(COLLECTORS.cpuinfo.parse(out.files.get('cpuinfo')!).model).toBe('Stub CPU');
  });
});
