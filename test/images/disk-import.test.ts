/**
 * Disk image import through the CLI (`crashcart image import --disk`, the real binary) and the importer
 * itself, on sample disks made by sgdisk/sfdisk/mkfs/mke2fs: every input form (raw, zstd, xz, gzip,
 * qcow2) gives the same raw checksum and the same facts; hostile and broken inputs get a clear error
 * and leave nothing behind.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { openStore, type Store } from '../../server/store/store.ts';
import { importDiskImage } from '../../server/images/disk-import.ts';
import { CcError } from '../../server/errors/cc-error.ts';
import { makeSampleDisk } from './harness/sample-disk.ts';
import { run, tmpDir } from './harness/tools.ts';

const work = tmpDir('import');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
const sha = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');
const gpt = path.join(work, 'gpt.raw');
const cli = (args: string[], env: NodeJS.ProcessEnv = process.env, input?: Buffer) =>
  spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'crashcart.mjs'), 'image', 'import', ...args], {
    encoding: 'utf8',
    env,
    input,
    timeout: 120_000,
  });
const lsImages = (d: string) => (fs.existsSync(path.join(d, 'images')) ? fs.readdirSync(path.join(d, 'images')) : []);
const staging = (d: string) => (fs.existsSync(path.join(d, 'images-staging')) ? fs.readdirSync(path.join(d, 'images-staging')) : []);

beforeAll(() => {
  makeSampleDisk(gpt, path.join(work, 'mk-gpt'), { table: 'gpt', bootCode: true, esp: true, root: 'ext4', cloudInit: true });
  run('zstd', ['-q', '-3', '-k', gpt, '-o', `${gpt}.zst`]);
  run('xz', ['-k', '-0', '-T1', gpt]);
  fs.writeFileSync(`${gpt}.gz`, run('sh', ['-c', `gzip -1 -c ${gpt} | base64 -w0`]), 'base64');
  run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', gpt, `${gpt}.qcow2`]);
});

describe('crashcart image import --disk', () => {
  it('imports raw, zstd, xz, gzip and qcow2 to the same raw image and facts', { timeout: 180_000 }, async () => {
    const d = path.join(work, 'data-forms');
    const raw = sha(gpt);
    const forms = ['', '.zst', '.xz', '.gz', '.qcow2'];
    // Two forms through the real binary (a CLI start costs seconds), the rest through the importer.
    for (const ext of ['', '.qcow2']) {
      const r = cli(['--disk', gpt + ext, '--name', `s${ext.replace('.', '-') || '-raw'}`, '--data-dir', d]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(`sha256 ${raw}`);
      expect(r.stdout).toContain('Sample Linux 9');
      expect(r.stdout).toMatch(/boots with: both/);
      expect(r.stdout).toMatch(/first boot: nocloud \(detected: cloud-init, datasource_list \[NoCloud, ConfigDrive\]\)/);
      // Progress went to stderr: a bar or one line per 10%.
      expect(r.stderr).toMatch(/reading|qcow2 -> raw/);
    }
    const store = await openStore(d, 0);
    try {
      for (const ext of ['.zst', '.xz', '.gz']) {
        const f = gpt + ext;
        await importDiskImage({
          col: store.images,
          dataDir: d,
          name: `s${ext.replace('.', '-')}`,
          source: fs.createReadStream(f),
          sourceSize: fs.statSync(f).size,
          now: () => new Date(),
        });
      }
      const docs = await store.images.find({});
      expect(docs.map((x) => x.disk!.sha256)).toEqual(forms.map(() => raw));
      const bySource = Object.fromEntries(docs.map((x) => [x.disk!.source.compression + '/' + x.disk!.source.format, x.disk!]));
      expect(Object.keys(bySource).sort()).toEqual(['gzip/raw', 'none/qcow2', 'none/raw', 'xz/raw', 'zstd/raw']);
      // A zstd upload is stored as it came; every other form is compressed here.
      expect(bySource['zstd/raw']!.stored_sha256).toBe(sha(`${gpt}.zst`));
      expect(bySource['none/qcow2']!.source.sha256).toBe(sha(`${gpt}.qcow2`));
      for (const x of docs) {
        const stored = path.join(d, 'images', x.name, 'disk.raw.zst');
        expect(sha(stored)).toBe(x.disk!.stored_sha256);
        expect(run('sh', ['-c', `zstd -dc ${stored} | sha256sum`]).slice(0, 64)).toBe(raw);
        expect(x.disk!.partition_table.partitions.map((p) => [p.number, p.start, p.size, p.role, p.filesystem])).toEqual([
          [1, 1048576, 1048576, 'bios-boot', 'unknown'],
          [2, 2097152, 16777216, 'esp', 'vfat'],
          [3, 18874368, 94175 * 512, 'linux-root', 'ext4'], // sgdisk: LBA 36864 to the last usable (131038)
        ]);
      }
    } finally {
      await store.close();
    }
    expect(staging(d)).toEqual([]);
  });

  it('refuses hostile and broken inputs with the error and fix, leaving nothing behind', async () => {
    const d = path.join(work, 'data-bad');
    const raw = fs.readFileSync(gpt);
    const vmdk = Buffer.concat([Buffer.from('KDMV'), Buffer.alloc(60000)]);
    const iso = Buffer.alloc(40000);
    iso.write('CD001', 32769, 'latin1');
    const badCrc = Buffer.from(raw);
    badCrc[512 + 60]! ^= 0xff;
    const zst = Buffer.from(fs.readFileSync(`${gpt}.zst`));
    zst.fill(0x55, Math.floor(zst.length / 2), Math.floor(zst.length / 2) + 64);
    const cases: [string, Buffer, string, RegExp][] = [
      ['vmdk', vmdk, 'CC_ERR_DISK_IMAGE_FORMAT', /VMDK virtual disk: convert it first with `qemu-img convert/],
      ['iso', iso, 'CC_ERR_DISK_IMAGE_FORMAT', /crashcart image import --iso/],
      ['bzip2', Buffer.from('BZh91AY&SY' + 'x'.repeat(40000)), 'CC_ERR_DISK_IMAGE_FORMAT', /bunzip2/],
      ['truncated', raw.subarray(0, 40 * 1024 * 1024), 'CC_ERR_DISK_IMAGE_INVALID', /truncated/],
      ['bad-crc', badCrc, 'CC_ERR_DISK_IMAGE_INVALID', /header CRC32 mismatch/],
      ['no-table', Buffer.alloc(1024 * 1024, 7), 'CC_ERR_DISK_IMAGE_INVALID', /0x55AA/],
      ['tiny', Buffer.from('not a disk'), 'CC_ERR_DISK_IMAGE_INVALID', /need 512 bytes, have 10/],
      ['empty', Buffer.alloc(0), 'CC_ERR_DISK_IMAGE_INVALID', /need 512 bytes, have 0/],
      ['corrupt-zstd', zst, 'CC_ERR_DISK_IMAGE_INVALID', /zstd data is corrupt/],
      [
        'double',
        Buffer.from(run('sh', ['-c', `gzip -c ${gpt}.zst | base64 -w0`]), 'base64'),
        'CC_ERR_DISK_IMAGE_FORMAT',
        /compressed twice/,
      ],
    ];
    const store = await openStore(d, 0);
    try {
      for (const [name, bytes, code, why] of cases) {
        const f = path.join(work, `bad-${name}`);
        fs.writeFileSync(f, bytes);
        const err = await importDiskImage({
          col: store.images,
          dataDir: d,
          name,
          source: fs.createReadStream(f),
          sourceSize: bytes.length,
          now: () => new Date(),
        }).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err, name).toBeInstanceOf(CcError);
        expect((err as CcError).code, name).toBe(code);
        expect((err as CcError).message, name).toMatch(why);
      }
      expect(await store.images.find({})).toEqual([]);
    } finally {
      await store.close();
    }
    // Through the real CLI: the code, the message and the fix on stderr, exit status 1.
    const r = cli(['--disk', path.join(work, 'bad-truncated'), '--name', 'truncated', '--data-dir', d]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /^CC_ERR_DISK_IMAGE_INVALID: The disk image is damaged, truncated or has no usable partition table: .*truncated\n {2}fix: Check the download/m,
    );
    expect(lsImages(d)).toEqual([]);
    expect(staging(d)).toEqual([]);
  });

  it('a source that fails part-way (raw, zstd, qcow2), again and again: no staging folder, no descriptor left', async () => {
    // Every file the import writes is open before a byte moves and closed before the staging folder goes
    // (server/store/file-sink.ts, sparseFileWriter's settled()): a stream that opened its file by itself, later,
    // could make it after the cleanup, or hold it open.
    const d = path.join(work, 'data-cut');
    const store = await openStore(d, 0);
    const openInto = () =>
      fs.readdirSync('/proc/self/fd').filter((fd) => {
        try {
          const to = fs.readlinkSync(`/proc/self/fd/${fd}`);
          return ['images-staging', 'images'].some((sub) => to.startsWith(path.join(d, sub) + path.sep)); // not the store's own files
        } catch {
          return false;
        }
      });
    try {
      const cutAt = [0, 1, 700, 64 * 1024, 1 << 20, 3 << 20];
      for (const ext of ['', '.zst', '.qcow2']) {
        const whole = fs.readFileSync(gpt + ext);
        for (let i = 0; i < 24; i++) {
          const cut = Math.min(cutAt[i % cutAt.length]!, whole.length - 1);
          const source = Readable.from(
            (async function* () {
              if (cut > 0) yield whole.subarray(0, cut);
              // Gone after what it sent was written (or mid-way through it, on alternate rounds).
              await new Promise((r) => setTimeout(r, i % 2 ? 30 : 0));
              throw new Error('the client went away');
            })(),
          );
          const err = await importDiskImage({
            col: store.images,
            dataDir: d,
            name: `cut${i}`,
            source,
            sourceSize: whole.length,
            now: () => new Date(),
          }).then(
            () => null,
            (e: unknown) => e,
          );
          expect(err, `${ext || 'raw'} cut at ${cut}`).toBeInstanceOf(Error);
          expect(staging(d), `${ext || 'raw'} cut at ${cut}`).toEqual([]);
          expect(openInto(), `${ext || 'raw'} cut at ${cut}`).toEqual([]);
        }
      }
      expect(await store.images.find({})).toEqual([]);
      expect(lsImages(d)).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('a qcow2 with a backing file is refused before qemu-img reads anything of the host', () => {
    const d = path.join(work, 'data-backing');
    const q = path.join(work, 'overlay.qcow2');
    run('qemu-img', ['create', '-f', 'qcow2', '-F', 'raw', '-b', '/etc/hostname', q]);
    const r = cli(['--disk', q, '--name', 'overlay', '--data-dir', d]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/CC_ERR_DISK_IMAGE_INVALID.*backing file/s);
    expect(lsImages(d)).toEqual([]);
  });

  it('without qemu-img a qcow2 import names the package', () => {
    const bin = path.join(work, 'bin-no-qemu');
    fs.mkdirSync(bin, { recursive: true });
    // flock: the data-dir lock (util-linux); zstd and xz: the importer; no qemu-img.
    for (const t of ['zstd', 'xz', 'flock']) if (!fs.existsSync(path.join(bin, t))) fs.symlinkSync(`/usr/bin/${t}`, path.join(bin, t));
    const r = cli(['--disk', `${gpt}.qcow2`, '--name', 'q', '--data-dir', path.join(work, 'data-noq')], { ...process.env, PATH: bin });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('CC_ERR_TOOL_MISSING');
    expect(r.stderr).toContain('qemu-img (Debian package qemu-utils)');
  });

  it('reads standard input, and refuses a name that exists', () => {
    const d = path.join(work, 'data-stdin');
    const r = cli(['--disk', '-', '--name', 'piped', '--data-dir', d], process.env, fs.readFileSync(`${gpt}.zst`));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`sha256 ${sha(gpt)}`);
    const again = cli(['--disk', gpt, '--name', 'piped', '--data-dir', d]);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('CC_ERR_IMAGE_EXISTS');
    expect(lsImages(d)).toEqual(['piped']);
  });
});

describe('importer: what it records about other kinds of disks', () => {
  let store: Store;
  const d = path.join(work, 'data-kinds');
  beforeAll(async () => {
    store = await openStore(d, 0);
  });
  afterAll(() => store.close());
  const imp = (name: string, file: string, over: Partial<Parameters<typeof importDiskImage>[0]> = {}) =>
    importDiskImage({
      col: store.images,
      dataDir: d,
      name,
      source: fs.createReadStream(file),
      sourceSize: fs.statSync(file).size,
      now: () => new Date(),
      ...over,
    });

  it('MBR, active partition, no ESP, no cloud-init: BIOS only, first boot none', async () => {
    const f = path.join(work, 'mbr.raw');
    makeSampleDisk(f, path.join(work, 'mk-mbr'), { table: 'mbr', bootCode: true, esp: false, root: 'ext4', cloudInit: false });
    const x = (await imp('mbr', f)).disk!;
    expect(x.partition_table.type).toBe('mbr');
    expect(x.partition_table.partitions.map((p) => [p.number, p.type, p.role, p.bootable])).toEqual([
      [1, '0x83', 'linux', true],
      [2, '0x82', 'swap', false],
    ]);
    expect(x.firmware).toBe('bios');
    expect(x.boot.uefi).toEqual({ ok: false, reason: 'no EFI system partition' });
    expect([x.first_boot, x.first_boot_source, x.first_boot_reason]).toEqual(['none', 'detected', 'cloud-init is not installed']);
  });

  it('GPT without boot code and without the fallback loader boots with nothing, and says why', async () => {
    const f = path.join(work, 'bare.raw');
    makeSampleDisk(f, path.join(work, 'mk-bare'), { table: 'gpt', bootCode: false, esp: false, root: 'ext4', cloudInit: true });
    const x = (await imp('bare', f)).disk!;
    expect(x.firmware).toBe('none');
    expect(x.boot.bios.reason).toBe('the MBR holds no boot code');
    expect(x.boot.uefi.ok).toBe(false);
  });

  it('a root filesystem Crashcart cannot read: unreadable unless the operator says', async () => {
    const f = path.join(work, 'xfs.raw');
    makeSampleDisk(f, path.join(work, 'mk-xfs'), { table: 'gpt', bootCode: true, esp: true, root: 'xfs-magic', cloudInit: false });
    const x = (await imp('xfs', f)).disk!;
    expect([x.first_boot, x.first_boot_source]).toEqual(['none', 'unreadable']);
    expect(x.first_boot_reason).toMatch(/looks like xfs \(partition 3\)/);
    const y = (await imp('xfs-said', f, { firstBoot: 'nocloud' })).disk!;
    expect([y.first_boot, y.first_boot_source]).toEqual(['nocloud', 'operator']);
  });

  it('a decompression bomb stops at the size limit', async () => {
    const bomb = path.join(work, 'bomb.zst');
    run('sh', ['-c', `head -c 64M /dev/zero | zstd -q -19 -o ${bomb}`]);
    await expect(imp('bomb', bomb, { maxBytes: 16 * 1024 * 1024 })).rejects.toThrow(/larger than 16777216 bytes/);
    await expect(imp('bomb', bomb, { maxBytes: 16 * 1024 * 1024 })).rejects.toBeInstanceOf(CcError);
    expect(staging(d)).toEqual([]);
  });
});
