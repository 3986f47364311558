// A disk's serial from SCSI VPD page 0x80 (agent/parse/scsi-vpd.ts), and where the agent reads it: the /sys walk of
// the register-first pass (sysfs-block.ts) and lsblk's output in the complete pass, which without udev has no
// serial for a SATA or SAS disk (withSysfsIdentity). The real page of a QEMU SATA disk, hand-made edge cases,
// random bytes, and a fake /sys.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sysfsBlockText, withSysfsIdentity } from '../../agent/collect/sysfs-block.ts';
import { parseLsblk } from '../../agent/parse/lsblk.ts';
import { vpdUnitSerial } from '../../agent/parse/scsi-vpd.ts';

const FIX = path.join(path.dirname(new URL(import.meta.url).pathname), '../fixtures/agent');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'cc-agent-vpd-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A VPD page 0x80 around `serial` (`len` overrides the length field). */
const page = (serial: Uint8Array | string, len?: number, code = 0x80) => {
  const body = typeof serial === 'string' ? Buffer.from(serial, 'latin1') : Buffer.from(serial);
  const n = len ?? body.length;
  return Buffer.concat([Buffer.from([0, code, n >> 8, n & 0xff]), body]);
};

describe('vpdUnitSerial', () => {
  it('reads the real page of a QEMU SATA disk (libata builds it from ATA IDENTIFY)', () => {
    expect(vpdUnitSerial(readFileSync(path.join(FIX, 'qemu-ata-disk.vpd_pg80')))).toBe('SATA1');
  });

  it('edge cases: not page 0x80, too short, a length past the end, padding only, leading spaces', () => {
    expect(vpdUnitSerial(page('SN123', undefined, 0x83))).toBeUndefined();
    expect(vpdUnitSerial(Buffer.from([0, 0x80, 0]))).toBeUndefined();
    expect(vpdUnitSerial(undefined)).toBeUndefined();
    expect(vpdUnitSerial(page('WD-WCC4N1234567', 200))).toBe('WD-WCC4N1234567');
    expect(vpdUnitSerial(page('ABC', 2))).toBe('AB');
    expect(vpdUnitSerial(page(' '.repeat(20)))).toBeUndefined();
    expect(vpdUnitSerial(page('        S3Z9NB0K123456A'))).toBe('S3Z9NB0K123456A');
  });

  it('a hostile device cannot put control bytes, escapes or a huge string into the facts', () => {
    expect(vpdUnitSerial(page('\x1b[31mEVIL\x00\n\r"x'))).toBe('[31mEVIL"x');
    expect(vpdUnitSerial(page(Buffer.from([0xc3, 0xa9, 0xff, 0x41])))).toBe('A');
    expect(vpdUnitSerial(page('X'.repeat(251)))!.length).toBe(128);
  });

  it('random bytes: never throws, only printable ASCII, at most 128 characters', () => {
    let seed = 17;
    const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 8;
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.alloc(rnd() % 300);
      for (let j = 0; j < b.length; j++) b[j] = rnd() & 0xff;
      if (i % 2 && b.length > 1) b[1] = 0x80;
      const s = vpdUnitSerial(b);
      if (s !== undefined) expect(s).toMatch(/^[\x20-\x7e]{1,128}$/);
    }
  });
});

describe('disk serials from /sys', () => {
  const root = path.join(tmp, 'root');
  const put = (f: string, data: string | Buffer) => {
    mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    writeFileSync(path.join(root, f), data);
  };
  put('sys/block/sda/size', '524288\n');
  put('sys/block/sda/device/model', 'QEMU HARDDISK   \n');
  put('sys/block/sda/device/vpd_pg80', readFileSync(path.join(FIX, 'qemu-ata-disk.vpd_pg80')));
  put('sys/block/vda/size', '2048\n');
  put('sys/block/vda/serial', 'VIRTIO-1\n');
  put('sys/block/vda/device/vpd_pg80', page('NOT-THIS-ONE'));

  it('the register-first walk takes a SATA disk serial from VPD page 0x80, a virtio one from its serial file', async () => {
    const disks = parseLsblk(await sysfsBlockText(root));
    expect(disks.map((d) => [d.name, d.serial])).toEqual([
      ['sda', 'SATA1'],
      ['vda', 'VIRTIO-1'],
    ]);
  });

  it("fills lsblk's missing serials (no udev) and keeps the ones it has", async () => {
    const lsblk = JSON.stringify({
      blockdevices: [
        { name: 'sda', kname: 'sda', size: 268435456, type: 'disk', serial: null, tran: 'sata', model: 'QEMU HARDDISK' },
        { name: 'vda', kname: 'vda', size: 1048576, type: 'disk', serial: 'FROM-LSBLK' },
        { name: 'sdb', kname: 'sdb', size: 1, type: 'disk', serial: null },
      ],
    });
    const out = parseLsblk(await withSysfsIdentity(lsblk, root));
    expect(out.map((d) => [d.name, d.serial, d.transport])).toEqual([
      ['sda', 'SATA1', 'sata'],
      ['vda', 'FROM-LSBLK', undefined],
      ['sdb', undefined, undefined],
    ]);
  });

  it('text that is not lsblk JSON, and names that are not kernel names, are left alone', async () => {
    expect(await withSysfsIdentity('not json', root)).toBe('not json');
    expect(await withSysfsIdentity('{"x":1}', root)).toBe('{"x":1}');
    put('sys/block/x/device/vpd_pg80', page('TRAVERSED'));
    const hostile = JSON.stringify({ blockdevices: [{ name: '../block/x', kname: '../block/x', size: 1, type: 'disk', serial: null }] });
    expect(await withSysfsIdentity(hostile, root)).toBe(hostile);
  });
});
