/**
 * The FAT and ext2/3/4 readers on filesystems made by the real tools (mkfs.vfat + mcopy, mke2fs -d),
 * in every variant the readers claim (FAT12/16/32 with long names; ext4 with extents and hash-tree
 * directories, ext4 with 1 KiB blocks, ext2 with block maps through double-indirect blocks), plus
 * hostile filesystems: damaged bytes only ever produce MalformedPacket, and loops end.
 */
import fc from 'fast-check';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MalformedPacket } from '../../server/net/malformed.ts';
import { memorySource } from '../../server/images/codec/block-source.ts';
import { openFat } from '../../server/images/codec/fat.ts';
import { openExt4, S_IFDIR, S_IFREG } from '../../server/images/codec/ext4.ts';
import { probeFs } from '../../server/images/codec/fs-probe.ts';
import { run, tmpDir, writeTree } from './harness/tools.ts';

const work = tmpDir('fsread');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const loader = randomBytes(150_000);
const big = randomBytes(1_100_000);

async function expectOnlyMalformed(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof MalformedPacket)) throw e;
  }
}

/** FAT width, volume MiB, sectors per cluster (FAT12 needs fewer than 4085 clusters). */
const VARIANTS = [
  [12, 4, 4],
  [16, 32, 1],
  [32, 64, 1],
] as const;

describe('FAT reader on mkfs.vfat volumes', () => {
  const tree = path.join(work, 'esp');
  beforeAll(() => {
    writeTree(tree, {
      'EFI/BOOT/BOOTX64.EFI': loader,
      'EFI/debian/grubx64.efi': 'x'.repeat(5000),
      'EFI/debian/A rather long file name.cfg': 'long',
    });
    // Enough entries that the directory spans several clusters.
    for (let i = 0; i < 120; i++) writeTree(tree, { [`EFI/many/entry-with-long-name-${i}.txt`]: String(i) });
    for (const [fat, mib, spc] of VARIANTS) {
      const img = path.join(work, `fat${fat}.img`);
      run('mkfs.vfat', ['-F', String(fat), '-s', String(spc), '-n', 'ESP', '-C', img, String(mib * 1024)]);
      run('mcopy', ['-s', '-i', img, path.join(tree, 'EFI'), '::/']);
    }
  });
  for (const [fat] of VARIANTS) {
    it(`FAT${fat}: finds EFI/BOOT/BOOTX64.EFI, long names and multi-cluster directories`, async () => {
      const img = path.join(work, `fat${fat}.img`);
      const bytes = new Uint8Array(fs.readFileSync(img));
      expect(probeFs(bytes)).toBe('vfat');
      const vol = await openFat(memorySource(bytes));
      expect(vol.type).toBe(`fat${fat}`);
      expect(vol.label).toBe('ESP');
      const f = await vol.lookup('EFI/BOOT/BOOTX64.EFI');
      expect(f).toMatchObject({ isDir: false, size: loader.length, shortName: 'BOOTX64.EFI' });
      expect(await vol.lookup('efi/boot/bootx64.efi')).toEqual(f);
      expect(await vol.lookup('EFI/BOOT/BOOTAA64.EFI')).toBeNull();
      expect(await vol.lookup('EFI/BOOT/BOOTX64.EFI/x')).toBeNull();
      const debian = await vol.lookup('EFI/debian');
      expect((await vol.readDir(debian)).map((e) => e.name).sort()).toEqual(['A rather long file name.cfg', 'grubx64.efi']);
      const many = await vol.readDir(await vol.lookup('EFI/many'));
      expect(many).toHaveLength(120);
      expect(many.map((e) => e.name)).toContain('entry-with-long-name-119.txt');
    });
  }
  it('hostile: mutated FAT volumes never escape MalformedPacket and never loop', async () => {
    const bytes = new Uint8Array(fs.readFileSync(path.join(work, 'fat12.img')));
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(16 * 1024), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 40 }),
        async (muts) => {
          const b = bytes.slice();
          for (const [o, x] of muts) b[o] = x;
          await expectOnlyMalformed(async () => {
            const v = await openFat(memorySource(b));
            await v.lookup('EFI/BOOT/BOOTX64.EFI');
            await v.readDir(await v.lookup('EFI/many'));
          });
        },
      ),
      { numRuns: 300 },
    );
  });
  it('hostile: a FAT chain that loops ends at the cluster count', async () => {
    const img = path.join(work, 'fat16.img');
    const b = new Uint8Array(fs.readFileSync(img));
    const v = await openFat(memorySource(b));
    const many = (await v.lookup('EFI/many'))!;
    // Point the directory's first cluster at itself in the FAT (FAT16: 2 bytes per entry after the reserved sectors).
    const rsvd = b[14]! | (b[15]! << 8);
    const at = rsvd * 512 + many.firstCluster * 2;
    b[at] = many.firstCluster & 0xff;
    b[at + 1] = many.firstCluster >> 8;
    const looped = await openFat(memorySource(b));
    const entries = await looped.readDir(many);
    expect(entries.length).toBeGreaterThan(0);
  });
});

describe('ext2/3/4 reader on mke2fs -d filesystems', () => {
  const tree = path.join(work, 'root');
  const many = Array.from({ length: 1500 }, (_, i) => `file-${String(i).padStart(4, '0')}`);
  beforeAll(() => {
    writeTree(tree, {
      'usr/lib/os-release': 'PRETTY_NAME="Test Linux 1"\nID=test\n',
      'etc/cloud/cloud.cfg': 'datasource_list: [ NoCloud, None ]\n',
      'usr/bin/cloud-init': '#!/bin/sh\n',
      'var/big.bin': big,
    });
    fs.symlinkSync('../usr/lib/os-release', path.join(tree, 'etc/os-release'));
    fs.symlinkSync('/usr/lib/os-release', path.join(tree, 'etc/absolute'));
    // Longer than the 60 bytes of i_block: stored in a data block (a "slow" symlink).
    const longTarget = './'.repeat(30) + '../usr/lib/os-release';
    fs.symlinkSync(longTarget, path.join(tree, 'etc/slow-link'));
    fs.symlinkSync('loop-b', path.join(tree, 'etc/loop-a'));
    fs.symlinkSync('loop-a', path.join(tree, 'etc/loop-b'));
    fs.mkdirSync(path.join(tree, 'var/many'), { recursive: true });
    for (const n of many) fs.writeFileSync(path.join(tree, 'var/many', n), n);
    // A sparse file with ten separate data runs: more extents than the inode's root node holds (4), so
    // mke2fs builds an extent tree of depth 1.
    const fd = fs.openSync(path.join(tree, 'var/sparse.bin'), 'w');
    for (let i = 0; i < 10; i++) fs.writeSync(fd, Buffer.alloc(4096, i + 1), 0, 4096, i * 1024 * 1024);
    fs.closeSync(fd);
  });
  for (const [file, label, args] of [
    ['ext4-4k.img', 'ext4, 4 KiB blocks, extents, 64bit, hash-tree dirs', ['-t', 'ext4', '-O', '64bit']],
    ['ext4-1k.img', 'ext4, 1 KiB blocks', ['-t', 'ext4', '-b', '1024']],
    ['ext2-1k.img', 'ext2, block maps (double indirect)', ['-t', 'ext2', '-b', '1024']],
  ] as const) {
    it(`${label}: lookups, symlinks, big directories, whole files`, async () => {
      const img = path.join(work, file);
      run('mke2fs', ['-q', '-F', ...args, '-L', 'root', '-U', '0b5e7c6d-1111-4222-8333-444455556666', '-d', tree, img, '64M']);
      const bytes = new Uint8Array(fs.readFileSync(img));
      expect(probeFs(bytes)).toBe('ext4');
      const vol = await openExt4(memorySource(bytes));
      expect(vol.uuid).toBe('0b5e7c6d-1111-4222-8333-444455556666');
      expect(vol.label).toBe('root');
      const text = async (p: string) => new TextDecoder().decode(await vol.readFile((await vol.lookup(p))!, 4096));
      expect(await text('/etc/os-release')).toContain('Test Linux 1');
      expect(await text('/etc/absolute')).toContain('Test Linux 1');
      expect(await text('/etc/slow-link')).toContain('Test Linux 1');
      expect(await text('/etc/cloud/cloud.cfg')).toContain('NoCloud');
      expect((await vol.lookup('/etc/cloud'))!.mode & 0xf000).toBe(S_IFDIR);
      expect((await vol.lookup('/usr/bin/cloud-init'))!.mode & 0xf000).toBe(S_IFREG);
      expect(await vol.lookup('/etc/nothing')).toBeNull();
      expect(await vol.lookup('/etc/os-release/x')).toBeNull();
      const bigIno = (await vol.lookup('/var/big.bin'))!;
      expect(sha(await vol.readFile(bigIno, 1 << 30))).toBe(sha(big));
      const sparse = await vol.readFile((await vol.lookup('/var/sparse.bin'))!, 1 << 30);
      expect(sparse.length).toBe(9 * 1024 * 1024 + 4096);
      for (let i = 0; i < 10; i++) expect([sparse[i * 1024 * 1024], sparse[i * 1024 * 1024 + 4095]]).toEqual([i + 1, i + 1]);
      for (let i = 0; i < 9; i++) expect(sparse[i * 1024 * 1024 + 5000]).toBe(0);
      const names = (await vol.readDir((await vol.lookup('/var/many'))!)).map((e) => e.name).sort();
      expect(names).toEqual(many);
      await expect(vol.lookup('/etc/loop-a')).rejects.toThrow(MalformedPacket);
    });
  }
  it('hostile: mutated metadata never escapes MalformedPacket', async () => {
    const small = path.join(work, 'small');
    writeTree(small, { 'usr/lib/os-release': 'ID=x\n' });
    fs.mkdirSync(path.join(small, 'etc'));
    fs.symlinkSync('../usr/lib/os-release', path.join(small, 'etc/os-release'));
    for (let i = 0; i < 200; i++) writeTree(small, { [`var/many/f${i}`]: String(i) });
    const img = path.join(work, 'small.img');
    run('mke2fs', ['-q', '-F', '-t', 'ext4', '-b', '1024', '-d', small, img, '4M']);
    const bytes = new Uint8Array(fs.readFileSync(img));
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 60 }),
        async (muts) => {
          const b = bytes.slice();
          for (const [o, x] of muts) b[o] = x;
          await expectOnlyMalformed(async () => {
            const v = await openExt4(memorySource(b));
            const f = await v.lookup('/etc/os-release');
            if (f) await v.readFile(f, 1 << 20);
            const d = await v.lookup('/var/many');
            if (d && (d.mode & 0xf000) === S_IFDIR) await v.readDir(d);
          });
        },
      ),
      { numRuns: 400 },
    );
  });
});
