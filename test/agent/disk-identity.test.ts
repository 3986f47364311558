// A disk's serial and WWN as the agent reads them without udev (agent/collect/sysfs-block.ts diskIdentity,
// agent/parse/disk-wwid.ts), and the rule that ties facts and deploys together: a root device hint copied from a
// node's facts picks the disk it was copied from (agent/tasks/root-disk.ts). On a real /sys/block tree and a real
// `lsblk -J -b -O` of the same four QEMU disks, captured in the microkernel (test/fixtures/agent/PROVENANCE.md).
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sysfsBlockText, withSysfsIdentity } from '../../agent/collect/sysfs-block.ts';
import { parseLsblk } from '../../agent/parse/lsblk.ts';
import { wwnOfWwid, wwnParts } from '../../agent/parse/disk-wwid.ts';
import { listDisks, pickRootDisk, wwnMatches } from '../../agent/tasks/root-disk.ts';

const FIX = path.join(path.dirname(new URL(import.meta.url).pathname), '../fixtures/agent');
const ROOT = path.join(FIX, 'sysfs-disks');
const BLOCK = path.join(ROOT, 'sys/block');
const LSBLK = readFileSync(path.join(FIX, 'qemu-disks-no-udev.lsblk.json'), 'utf8');
const NVME_WWID = 'nvme.1b36-43432d4e564d452d33-51454d55204e564d65204374726c-00000001';
const MIB64 = 64 * 1024 * 1024;

/** What the agent knows of each fixture disk, whichever way it read them: name, serial, WWN, SCSI address. */
const EXPECTED = [
  ['nvme0n1', 'CC-NVME-3', NVME_WWID, undefined],
  ['sda', 'CC-SATA-0001', '0x5000c500a1b2c3d4', '0:0:0:0'],
  ['sdb', 'CC-E2E-SATA-0001', undefined, '1:0:0:0'],
  ['sdc', 'CC-SCSI-0002', '0x5000c500deadbeef', '6:0:0:0'],
];

describe('wwnOfWwid', () => {
  it("the real wwid files: NAA as lsblk's 0x spelling, an NVMe name as it stands, a t10 name is no WWN", () => {
    const got = readdirSync(BLOCK)
      .sort()
      .map((name) => {
        const file = name.startsWith('nvme') ? 'wwid' : 'device/wwid';
        return [name, wwnOfWwid(readFileSync(path.join(BLOCK, name, file), 'utf8'), name)];
      });
    expect(got).toEqual(EXPECTED.map(([name, , wwn]) => [name, wwn]));
  });

  it('edge cases: case, 16-byte NAA, wrong lengths, designators udev does not call a WWN', () => {
    expect(wwnOfWwid('NAA.5000C500A1B2C3D4\n', 'sda')).toBe('0x5000c500a1b2c3d4');
    expect(wwnOfWwid('naa.6001405f3b2c1d0e6001405f3b2c1d0e', 'sdb')).toBe('0x6001405f3b2c1d0e6001405f3b2c1d0e');
    expect(wwnOfWwid('naa.5000c500a1b2c3d', 'sda')).toBeUndefined();
    expect(wwnOfWwid('naa.5000c500a1b2c3d4ff', 'sda')).toBeUndefined();
    expect(wwnOfWwid('naa.5000c500a1b2c3zz', 'sda')).toBeUndefined();
    expect(wwnOfWwid('eui.0011223344556677', 'sda')).toBeUndefined();
    expect(wwnOfWwid('t10.ATA     QEMU HARDDISK', 'sda')).toBeUndefined();
    expect(wwnOfWwid('eui.0011223344556677', 'nvme1n2')).toBe('eui.0011223344556677');
    expect(wwnOfWwid('eui.0011223344556677', 'nvme1n2p1')).toBeUndefined();
    expect(wwnOfWwid(undefined, 'sda')).toBeUndefined();
    expect(wwnOfWwid('', 'nvme0n1')).toBeUndefined();
  });

  it('text from a hostile device cannot become a WWN with blanks, escapes or any length', () => {
    expect(wwnOfWwid('eui.00 11', 'nvme0n1')).toBeUndefined();
    expect(wwnOfWwid('eui.\x1b[31m', 'nvme0n1')).toBeUndefined();
    expect(wwnOfWwid('eui.\u00e9', 'nvme0n1')).toBeUndefined();
    expect(wwnOfWwid(`eui.${'0'.repeat(300)}`, 'nvme0n1')).toBeUndefined();
    let seed = 29;
    const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 8;
    for (let i = 0; i < 2000; i++) {
      const prefix = ['naa.', 'eui.', 't10.', ''][i % 4]!;
      const s = prefix + Array.from({ length: rnd() % 40 }, () => String.fromCharCode(rnd() % 256)).join('');
      const w = wwnOfWwid(s, i % 2 ? 'nvme0n1' : 'sda');
      if (w !== undefined) expect(w).toMatch(/^(0x[0-9a-f]{16}([0-9a-f]{16})?|[\x21-\x7e]{1,256})$/);
      if (w !== undefined && i % 2 === 0) expect(w).toMatch(/^0x[0-9a-f]+$/);
    }
  });
});

describe('wwnMatches (the root device hints wwn, wwn_with_extension, wwn_vendor_extension)', () => {
  const SAN = '0x6001405f3b2c1d0e6001405f3b2c1d0e';

  it('wwnParts names the halves as udev does (ID_WWN, ID_WWN_VENDOR_EXTENSION, ID_WWN_WITH_EXTENSION)', () => {
    expect(wwnParts(SAN)).toEqual({ wwn: '0x6001405f3b2c1d0e', vendor_extension: '0x6001405f3b2c1d0e', with_extension: SAN });
    expect(wwnParts('0x5000C500A1B2C3D4')).toEqual({ wwn: '0x5000c500a1b2c3d4', with_extension: '0x5000c500a1b2c3d4' });
  });

  it('each hint compares with its own part', () => {
    expect(wwnMatches(SAN, SAN, 'wwn_with_extension')).toBe(true);
    expect(wwnMatches('0x6001405f3b2c1d0e', SAN, 'wwn_with_extension')).toBe(false);
    expect(wwnMatches('0x6001405F3B2C1D0E', SAN, 'wwn_vendor_extension')).toBe(true);
    expect(wwnMatches(SAN, SAN, 'wwn_vendor_extension')).toBe(false);
    expect(wwnMatches('naa.6001405f3b2c1d0e6001405f3b2c1d0e', SAN, 'wwn_with_extension')).toBe(true);
  });

  it("either spelling, any case, blanks around; a 16-byte NAA's first half (Ironic's wwn); <in>", () => {
    expect(wwnMatches('0x5000C500A1B2C3D4', '0x5000c500a1b2c3d4')).toBe(true);
    expect(wwnMatches(' naa.5000c500a1b2c3d4 ', '0x5000c500a1b2c3d4')).toBe(true);
    expect(wwnMatches('0x6001405f3b2c1d0e', '0x6001405f3b2c1d0e6001405f3b2c1d0e')).toBe(true);
    expect(wwnMatches('0x6001405f3b2c1d0e6001405f3b2c1d0e', '0x6001405f3b2c1d0e6001405f3b2c1d0e')).toBe(true);
    expect(wwnMatches('<in> A1B2', '0x5000c500a1b2c3d4')).toBe(true);
    expect(wwnMatches(NVME_WWID.toUpperCase(), NVME_WWID)).toBe(true);
  });

  it('no other prefix, no other disk, no disk without a WWN', () => {
    expect(wwnMatches('0x5000c500', '0x5000c500a1b2c3d4')).toBe(false);
    expect(wwnMatches('0x6001405f3b2c1d0e60', '0x6001405f3b2c1d0e6001405f3b2c1d0e')).toBe(false);
    expect(wwnMatches('0x5000c500a1b2c3d4', '0x5000c500deadbeef')).toBe(false);
    expect(wwnMatches('0x5000c500a1b2c3d4', undefined)).toBe(false);
  });
});

describe('the facts: the register-first /sys walk and lsblk without udev', () => {
  it('the /sys walk names every disk with its serial and WWN', async () => {
    const disks = parseLsblk(await sysfsBlockText(ROOT));
    expect(disks.map((d) => [d.name, d.serial, d.wwn, d.hctl])).toEqual(EXPECTED);
    expect(disks.map((d) => [d.name, d.size_bytes, d.model, d.vendor])).toEqual([
      ['nvme0n1', MIB64, 'QEMU NVMe Ctrl', undefined],
      ['sda', MIB64, 'CC-SATA-MODEL', 'ATA'],
      ['sdb', MIB64, 'QEMU HARDDISK', 'ATA'],
      ['sdc', MIB64, 'CC-SCSI-PROD', 'CCVEND'],
    ]);
  });

  it("lsblk's real output has no WWN and no SCSI serial; filled from /sys, with what lsblk had kept", async () => {
    const before = parseLsblk(LSBLK);
    expect(before.map((d) => [d.name, d.serial, d.wwn, d.hctl])).toEqual([
      ['sda', undefined, undefined, '0:0:0:0'],
      ['sdb', undefined, undefined, '1:0:0:0'],
      ['sdc', undefined, undefined, '6:0:0:0'],
      ['nvme0n1', 'CC-NVME-3', undefined, undefined],
    ]);
    const after = parseLsblk(await withSysfsIdentity(LSBLK, ROOT));
    const byName = (ds: typeof after) => [...ds].sort((a, b) => a.name.localeCompare(b.name));
    expect(byName(after).map((d) => [d.name, d.serial, d.wwn, d.hctl])).toEqual(EXPECTED);
    expect(after.map((d) => [d.name, d.transport])).toEqual([
      ['sda', 'sata'],
      ['sdb', 'sata'],
      ['sdc', undefined],
      ['nvme0n1', 'nvme'],
    ]);
  });

  it('a serial or WWN lsblk printed is kept (with udev it has both); nothing to fill leaves the text as it was', async () => {
    const doc = JSON.parse(LSBLK) as { blockdevices: Record<string, unknown>[] };
    for (const d of doc.blockdevices) {
      d['serial'] = `UDEV-${String(d['name'])}`;
      d['wwn'] = `0xudev${String(d['name'])}`;
    }
    const text = JSON.stringify(doc);
    expect(await withSysfsIdentity(text, ROOT)).toBe(text);
  });
});

describe('root device hints pick the disk the facts name', () => {
  const disks = listDisks(BLOCK);

  it('the deploy task reads the same serials and WWNs as the facts', () => {
    expect(disks.map((d) => [d.name, d.serial, d.wwn, d.hctl])).toEqual(EXPECTED);
  });

  it('a hint copied from the facts picks the disk it came from, for every disk, by serial and by WWN', async () => {
    const facts = parseLsblk(await withSysfsIdentity(LSBLK, ROOT));
    for (const f of facts) {
      expect(pickRootDisk(disks, { serial: f.serial! }, 1)).toMatchObject({ ok: true, disk: { name: f.name } });
      if (f.wwn) expect(pickRootDisk(disks, { wwn: f.wwn }, 1)).toMatchObject({ ok: true, disk: { name: f.name } });
      if (f.wwn) expect(pickRootDisk(disks, { wwn_with_extension: f.wwn }, 1)).toMatchObject({ ok: true, disk: { name: f.name } });
      if (f.hctl) expect(pickRootDisk(disks, { hctl: f.hctl }, 1)).toMatchObject({ ok: true, disk: { name: f.name } });
    }
    expect(facts.filter((f) => f.wwn).length).toBe(3);
    expect(facts.filter((f) => f.hctl).length).toBe(3);
    expect(pickRootDisk(disks, { hctl: '2:0:0:0' }, 1)).toMatchObject({ ok: false });
    // An 8-byte NAA has no vendor extension.
    expect(pickRootDisk(disks, { wwn_vendor_extension: '0x5000c500a1b2c3d4' }, 1)).toMatchObject({ ok: false });
  });

  it("the kernel's naa. spelling works as a hint; a t10 name is not a WWN", () => {
    expect(pickRootDisk(disks, { wwn: 'naa.5000C500A1B2C3D4' }, 1)).toMatchObject({ ok: true, disk: { name: 'sda' } });
    const t10 = readFileSync(path.join(BLOCK, 'sdb/device/wwid'), 'utf8');
    expect(pickRootDisk(disks, { wwn: t10 }, 1)).toMatchObject({ ok: false });
    expect(pickRootDisk(disks, { wwn: '<in> QEMU' }, 1)).toMatchObject({ ok: false });
  });
});
