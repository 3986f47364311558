/**
 * The built microkernel (build/out/microkernel) checked from the inside, without booting it: the manifest
 * matches the files, the initramfs has a working layout (init, busybox, node, agent, tools and every shared
 * library they need, modules.dep consistent with the modules present, firmware), and a production image
 * carries no login and no SSH. The QEMU boot itself is boot.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fileType, readCpio, S_IFDIR, S_IFLNK, S_IFREG, type CpioEntry } from './harness/cpio-read.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MK = path.join(REPO, 'build/out/microkernel');

interface Manifest {
  version: string;
  debug: boolean;
  compression: string;
  kernel: { release: string };
  files: Record<string, { bytes: number; sha256: string; uncompressed_bytes?: number }>;
  total_bytes: number;
  packages: { name: string; version: string }[];
}

let manifest: Manifest;
let image: Map<string, CpioEntry>;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Follow symlinks inside the image (absolute targets are image-rooted). */
function resolve(p: string, depth = 0): CpioEntry | undefined {
  if (depth > 20) return undefined;
  const parts = p.replace(/^\/+/, '').split('/');
  for (let i = 1; i <= parts.length; i++) {
    const head = parts.slice(0, i).join('/');
    const e = image.get(head);
    if (e && fileType(e.mode) === S_IFLNK) {
      const t = e.data.toString();
      const base = t.startsWith('/') ? t.slice(1) : path.posix.join(path.posix.dirname(head), t);
      return resolve(path.posix.normalize([base, ...parts.slice(i)].join('/')), depth + 1);
    }
  }
  return image.get(parts.join('/'));
}

/** DT_NEEDED of an ELF64 file (enough of the format for this check). */
function needed(b: Buffer): string[] {
  if (b.readUInt32BE(0) !== 0x7f454c46) return [];
  const shoff = Number(b.readBigUInt64LE(0x28));
  const shnum = b.readUInt16LE(0x3c);
  const sec = (i: number) => ({
    type: b.readUInt32LE(shoff + i * 64 + 4),
    off: Number(b.readBigUInt64LE(shoff + i * 64 + 0x18)),
    size: Number(b.readBigUInt64LE(shoff + i * 64 + 0x20)),
    link: b.readUInt32LE(shoff + i * 64 + 0x28),
  });
  const out: string[] = [];
  for (let i = 0; i < shnum; i++) {
    const s = sec(i);
    if (s.type !== 6) continue; // SHT_DYNAMIC
    const str = sec(s.link);
    for (let o = s.off; o < s.off + s.size; o += 16) {
      const tag = b.readBigInt64LE(o);
      if (tag === 0n) break;
      if (tag === 1n) {
        const at = str.off + Number(b.readBigUInt64LE(o + 8));
        out.push(b.toString('latin1', at, b.indexOf(0, at)));
      }
    }
  }
  return out;
}

beforeAll(() => {
  for (const f of ['vmlinuz', 'initrd.img', 'manifest.json']) {
    if (!existsSync(path.join(MK, f))) throw new Error(`${path.join(MK, f)} is missing\n  fix: npm run build:microkernel`);
  }
  manifest = JSON.parse(readFileSync(path.join(MK, 'manifest.json'), 'utf8')) as Manifest;
  const initrd = readFileSync(path.join(MK, 'initrd.img'));
  const tool = initrd.readUInt32BE(0) === 0xfd377a58 ? 'xz' : 'zstd';
  const cpio = execFileSync(tool, ['-dc'], { input: initrd, maxBuffer: 1 << 30 });
  image = readCpio(cpio);
});

describe('microkernel image (build/out/microkernel)', () => {
  it('manifest matches the files it describes', () => {
    for (const f of ['vmlinuz', 'initrd.img']) {
      const b = readFileSync(path.join(MK, f));
      expect(manifest.files[f]!.bytes).toBe(b.length);
      expect(manifest.files[f]!.sha256).toBe(sha(b));
    }
    expect(manifest.total_bytes).toBe(manifest.files['vmlinuz']!.bytes + manifest.files['initrd.img']!.bytes);
    expect(manifest.version).toContain(manifest.kernel.release);
    expect(manifest.packages.map((p) => p.name)).toEqual(expect.arrayContaining(['busybox-static', 'lldpd', 'ipmitool', 'libc6']));
    console.log(`microkernel ${manifest.version}: ${(manifest.total_bytes / 1048576).toFixed(1)} MiB (${manifest.compression})`);
  });

  it('is a reproducible archive: one mtime, inodes in sorted path order', () => {
    const entries = [...image.values()];
    expect(new Set(entries.map((e) => e.mtime)).size).toBe(1);
    const paths = entries.map((e) => e.path);
    expect(paths).toEqual([...paths].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(entries.map((e) => e.ino)).toEqual(entries.map((_, i) => i + 1));
  });

  it('has init, busybox applets, node, the agent and the tools the agent runs', () => {
    const init = image.get('init')!;
    expect(fileType(init.mode)).toBe(S_IFREG);
    expect(init.mode & 0o111).not.toBe(0);
    expect(init.data.toString()).toContain('supervise-agent');
    for (const p of [
      'usr/bin/sh',
      'usr/sbin/modprobe',
      'usr/sbin/udhcpc',
      'usr/sbin/reboot',
      'usr/bin/node',
      'usr/lib/crashcart/crashcart-agent.mjs',
      'usr/sbin/dmidecode',
      'usr/bin/lshw',
      'usr/bin/lscpu',
      'usr/bin/lsblk',
      'usr/bin/ip',
      'usr/sbin/ethtool',
      'usr/bin/ipmitool',
      'usr/sbin/lldpd',
      'usr/sbin/lldpctl',
      'usr/bin/lspci',
      'usr/share/misc/pci.ids',
      'usr/share/crashcart/udhcpc.script',
    ]) {
      const e = resolve(p);
      expect(e, p).toBeDefined();
      expect(fileType(e!.mode), p).toBe(S_IFREG);
    }
    // The real tools, not busybox's cut-down applets of the same name.
    expect(fileType(image.get('usr/bin/ip')!.mode)).toBe(S_IFREG);
    for (const l of ['bin', 'sbin', 'lib', 'lib64']) expect(fileType(image.get(l)!.mode)).toBe(S_IFLNK);
  });

  it('every program and library finds its shared libraries inside the image', () => {
    const missing: string[] = [];
    let checked = 0;
    for (const e of image.values()) {
      if (fileType(e.mode) !== S_IFREG || e.data.length < 64 || e.data.readUInt32BE(0) !== 0x7f454c46 || e.path.endsWith('.ko')) continue;
      checked++;
      for (const so of needed(e.data)) if (!resolve(`usr/lib/x86_64-linux-gnu/${so}`)) missing.push(`${e.path}: ${so}`);
    }
    expect(checked).toBeGreaterThan(20);
    expect(missing).toEqual([]);
    expect(resolve('lib64/ld-linux-x86-64.so.2')).toBeDefined();
  });

  it('modules.dep lists only modules that are present, and the NIC/storage/IPMI drivers are there', () => {
    const base = `usr/lib/modules/${manifest.kernel.release}`;
    const dep = image.get(`${base}/modules.dep`)!.data.toString().trim().split('\n');
    expect(dep.length).toBeGreaterThan(100);
    for (const line of dep) {
      const [mod, deps] = line.split(':');
      for (const m of [mod!, ...(deps ?? '').trim().split(/\s+/).filter(Boolean)]) expect(image.has(`${base}/${m}`), m).toBe(true);
    }
    const builtin = image.get(`${base}/modules.builtin`)!.data.toString();
    // A driver is there as a module or built into the kernel (modules.builtin), either way usable.
    const names = [
      ...dep.map((l) => path.posix.basename(l.split(':')[0]!, '.ko')),
      ...builtin.split('\n').map((l) => path.posix.basename(l, '.ko')),
    ].map((n) => n.replace(/-/g, '_'));
    for (const m of [
      'virtio_net',
      'e1000e',
      'igb',
      'ixgbe',
      'i40e',
      'ice',
      'bnx2x',
      'bnxt_en',
      'tg3',
      'mlx5_core',
      'r8169',
      'mpt3sas',
      'megaraid_sas',
      'smartpqi',
      'nvme',
      'ahci',
      'virtio_blk',
      'ipmi_si',
      'ipmi_devintf',
      'xhci_pci',
      'usb_storage',
    ]) {
      expect(names, m).toContain(m);
    }
    const alias = image.get(`${base}/modules.alias`)!.data.toString();
    // What init's modalias pass matches: the virtio PCI transport by PCI id, the NIC by virtio device id 1.
    expect(alias).toMatch(/^alias pci:v00001AF4d\*sv\*sd\*bc\*sc\*i\* virtio_pci$/m);
    expect(alias).toMatch(/^alias virtio:d00000001v\* virtio_net$/m);
    expect(image.has('usr/lib/firmware/bnx2x/bnx2x-e2-7.13.21.0.fw')).toBe(true);
    expect(image.has('usr/lib/firmware/tigon/tg3_tso5.bin')).toBe(true);
  });

  it('production images have no login and no SSH', () => {
    if (manifest.debug) {
      // A --debug build was left in build/out: it must at least carry the key it was built with.
      expect(image.has('root/.ssh/authorized_keys')).toBe(true);
      return;
    }
    expect(image.has('usr/sbin/dropbear')).toBe(false);
    expect(image.has('usr/share/crashcart/debug.sh')).toBe(false);
    expect(image.has('root/.ssh/authorized_keys')).toBe(false);
    expect(image.get('etc/shadow')!.data.toString()).toMatch(/^root:\*:/m);
    expect(fileType(image.get('root')!.mode)).toBe(S_IFDIR);
  });
});
