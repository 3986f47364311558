// The register-first pass runs no program: /sys stands in for ip, lsblk and lspci (agent/collect/sysfs-net.ts,
// sysfs-block.ts). Checked three ways: on a fake /sys tree (every odd case), on this machine's real /sys against
// the real iproute2 and util-linux, and as the whole fast pass with stub programs that record being run.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { COLLECTOR_LIST, COLLECTORS } from '../../agent/collect/collectors.ts';
import { collectLive } from '../../agent/collect/live.ts';
import { sysfsBlockText } from '../../agent/collect/sysfs-block.ts';
import { sysfsNetText } from '../../agent/collect/sysfs-net.ts';
import { buildInventory } from '../../agent/facts/inventory.ts';
import { parseIpText } from '../../agent/parse/ip.ts';
import { parseLsblk } from '../../agent/parse/lsblk.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'cc-agent-sysfs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A fake root: `files` maps paths under it to contents; `links` to symlink targets. */
function fakeRoot(files: Record<string, string>, links: Record<string, string> = {}): string {
  const root = mkdtempSync(path.join(tmp, 'root-'));
  for (const [f, t] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    writeFileSync(path.join(root, f), t);
  }
  for (const [f, target] of Object.entries(links)) {
    mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    symlinkSync(target, path.join(root, f));
  }
  return root;
}

const net = (name: string, o: Record<string, string>) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [`sys/class/net/${name}/${k}`, `${v}\n`]));

/** A machine: two virtio NICs (one down, one enslaved to a bridge), loopback, the bridge, a disk, a loop and a CD. */
const MACHINE = {
  ...net('eth0', {
    flags: '0x1003',
    carrier: '1',
    type: '1',
    address: '52:54:00:cc:00:01',
    mtu: '1500',
    uevent: 'INTERFACE=eth0\nIFINDEX=2',
  }),
  ...net('eth1', { flags: '0x1002', type: '1', address: '52:54:00:cc:00:02', mtu: '9000', uevent: 'INTERFACE=eth1' }),
  ...net('eth2', { flags: '0x1103', carrier: '1', type: '1', address: '52:54:00:cc:00:03', mtu: '1500', uevent: 'INTERFACE=eth2' }),
  ...net('lo', { flags: '0x9', carrier: '1', type: '772', address: '00:00:00:00:00:00', mtu: '65536', uevent: 'INTERFACE=lo' }),
  ...net('br0', {
    flags: '0x1003',
    carrier: '1',
    type: '1',
    address: '52:54:00:cc:00:03',
    mtu: '1500',
    uevent: 'DEVTYPE=bridge\nINTERFACE=br0',
  }),
  'sys/block/vda/size': '2097152\n',
  'sys/block/vda/queue/rotational': '1\n',
  'sys/block/vda/removable': '0\n',
  'sys/block/vda/serial': 'CC-DISK-0001\n',
  'sys/block/nvme0n1/size': '4194304\n',
  'sys/block/nvme0n1/queue/rotational': '0\n',
  'sys/block/nvme0n1/device/model': 'QEMU NVMe Ctrl                          \n',
  'sys/block/nvme0n1/device/serial': 'NVME-7     \n',
  'sys/block/loop0/size': '0\n',
  'sys/block/sr0/size': '2097151\n',
  'sys/block/zram0/size': '1000\n',
  'sys/block/junk/size': 'not a number\n',
  'proc/cpuinfo':
    'processor\t: 0\nmodel name\t: Stub CPU\nflags\t\t: fpu lm\nphysical id\t: 0\n\nprocessor\t: 1\nmodel name\t: Stub CPU\nflags\t\t: fpu lm\nphysical id\t: 0\n',
  'proc/meminfo': 'MemTotal:        1000000 kB\n',
  'sys/class/dmi/id/sys_vendor': 'QEMU\n',
  'sys/class/dmi/id/product_serial': 'CC-E2E-0001\n',
  'sys/class/dmi/id/product_uuid': 'C0FFEE00-0000-4000-8000-000000000001\n',
};
const MACHINE_LINKS = {
  'sys/class/net/eth0/device': '../../../virtio0',
  'sys/class/net/eth1/device': '../../../virtio1',
  'sys/class/net/eth2/device': '../../../virtio2',
  'sys/class/net/eth2/master': '../br0',
};

describe('/sys for ip and lsblk', () => {
  it('reads interfaces into what the ip parser takes: flags, carrier, kind, master, no addresses', async () => {
    const ifaces = parseIpText(await sysfsNetText(fakeRoot(MACHINE, MACHINE_LINKS)));
    expect(ifaces).toEqual([
      { name: 'br0', mac: '52:54:00:cc:00:03', link_type: 'ether', mtu: 1500, up: true, carrier: true, kind: 'bridge', ipv4: [], ipv6: [] },
      { name: 'eth0', mac: '52:54:00:cc:00:01', link_type: 'ether', mtu: 1500, up: true, carrier: true, ipv4: [], ipv6: [] },
      // Down: its carrier file is unreadable on a real kernel (EINVAL) and is not read.
      { name: 'eth1', mac: '52:54:00:cc:00:02', link_type: 'ether', mtu: 9000, up: false, carrier: false, ipv4: [], ipv6: [] },
      { name: 'eth2', mac: '52:54:00:cc:00:03', link_type: 'ether', mtu: 1500, up: true, carrier: true, master: 'br0', ipv4: [], ipv6: [] },
      {
        name: 'lo',
        mac: '00:00:00:00:00:00',
        link_type: 'loopback',
        mtu: 65536,
        up: true,
        carrier: true,
        kind: 'virtual',
        ipv4: [],
        ipv6: [],
      },
    ]);
  });

  it('reads whole disks into what the lsblk parser takes; loops, CDs, RAM disks and garbage are left out', async () => {
    const disks = parseLsblk(await sysfsBlockText(fakeRoot(MACHINE, MACHINE_LINKS)));
    expect(disks).toEqual([
      {
        name: 'nvme0n1',
        size_bytes: 4194304 * 512,
        model: 'QEMU NVMe Ctrl',
        serial: 'NVME-7',
        rotational: false,
        removable: false,
        type: 'disk',
      },
      { name: 'vda', size_bytes: 2097152 * 512, serial: 'CC-DISK-0001', rotational: true, removable: false, type: 'disk' },
    ]);
  });

  it('a root without /sys gives empty lists, not an error', async () => {
    const empty = fakeRoot({});
    expect(parseIpText(await sysfsNetText(empty))).toEqual([]);
    expect(parseLsblk(await sysfsBlockText(empty))).toEqual([]);
  });

  it("agrees with iproute2 and lsblk on this machine's real /sys", async () => {
    const fromIp = parseIpText(execFileSync('ip', ['-j', '-d', 'link'], { encoding: 'utf8' }));
    const fromSys = parseIpText(await sysfsNetText('/'));
    const view = (l: typeof fromIp) =>
      l.map((i) => ({ name: i.name, mac: i.mac, mtu: i.mtu, up: i.up, carrier: i.carrier, link_type: i.link_type }));
    expect(fromSys.length).toBeGreaterThan(0);
    expect(view(fromSys)).toEqual(expect.arrayContaining(view(fromIp).filter((i) => fromSys.some((s) => s.name === i.name))));
    expect(fromSys.map((i) => i.name).sort()).toEqual(fromIp.map((i) => i.name).sort());
    // A link iproute2 gives a kind (bridge, veth, dummy, ...) is never taken for a physical NIC from /sys.
    for (const i of fromIp.filter((x) => x.kind)) expect(fromSys.find((s) => s.name === i.name)!.kind).toBeDefined();

    const real = parseLsblk(execFileSync('lsblk', ['-J', '-b', '-O'], { encoding: 'utf8' }));
    const mine = parseLsblk(await sysfsBlockText('/'));
    expect(mine.map((d) => [d.name, d.size_bytes])).toEqual(real.map((d) => [d.name, d.size_bytes]));
  });
});

describe('the fast pass', () => {
  it('runs no program, and still identifies the machine: serial, UUID, MACs, CPUs, memory, disks, PCI', async () => {
    const bin = mkdtempSync(path.join(tmp, 'bin-'));
    const ran = path.join(tmp, 'ran');
    for (const [, c] of COLLECTOR_LIST) {
      if (!('run' in c.source)) continue;
      const p = path.join(bin, c.source.run);
      writeFileSync(p, `#!/bin/sh\necho "\${0##*/}" >> ${ran}\n`);
      chmodSync(p, 0o755);
    }
    const root = fakeRoot(
      {
        ...MACHINE,
        'sys/bus/pci/devices/0000:00:03.0/class': '0x020000\n',
        'sys/bus/pci/devices/0000:00:03.0/vendor': '0x1af4\n',
        'sys/bus/pci/devices/0000:00:03.0/device': '0x1000\n',
      },
      MACHINE_LINKS,
    );
    const savedPath = process.env['PATH'];
    process.env['PATH'] = bin;
    let fast, full;
    try {
      fast = await collectLive({ root, fast: true });
      full = await collectLive({ root, timeoutMs: 5000 });
    } finally {
      process.env['PATH'] = savedPath;
    }
    // The full pass ran the stubs (so the check above can fail); the fast one ran none of them.
    expect(existsSync(ran)).toBe(true);
    rmSync(ran);
    fast = await collectLive({ root, fast: true });
    expect(existsSync(ran)).toBe(false);
    expect(full.files.size).toBeGreaterThan(fast.files.size);

    expect([...fast.files.keys()].sort()).toEqual(
      ['boot-mode.txt', 'cpuinfo', 'dmi-id.txt', 'ip-addr.json', 'lsblk.json', 'lspci.txt', 'meminfo', 'secure-boot.txt'].sort(),
    );
    expect(fast.errors).toEqual([]);
    const inv = buildInventory(fast);
    expect(inv.system).toMatchObject({ serial: 'CC-E2E-0001', uuid: 'c0ffee00-0000-4000-8000-000000000001', is_virtual: true });
    expect(inv.nics.map((n) => [n.name, n.mac, n.link])).toEqual([
      ['eth0', '52:54:00:cc:00:01', true],
      ['eth1', '52:54:00:cc:00:02', false],
      ['eth2', '52:54:00:cc:00:03', true],
    ]);
    expect(inv.cpu).toMatchObject({ model: 'Stub CPU', architecture: 'x86_64', threads: 2 });
    expect(inv.memory.total_mb).toBe(Math.round(1000000 / 1024));
    expect(inv.disks.map((d) => [d.name, d.size_bytes])).toEqual([
      ['nvme0n1', 4194304 * 512],
      ['vda', 2097152 * 512],
    ]);
    expect(inv.pci).toEqual([{ slot: '0000:00:03.0', vendor_id: '1af4', device_id: '1000', class_id: '0200' }]);
    expect(COLLECTORS.lsblk.fallback).toBe(sysfsBlockText);
    expect(COLLECTORS.ipAddr.fallback).toBe(sysfsNetText);
  });
});
