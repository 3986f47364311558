/**
 * The builder's pure parts: the GPT layout (checked by sgdisk, an independent reader), GRUB's BIOS
 * block addresses, the mmdebstrap command line and cache key, and the CLI's refusals.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { layoutGpt } from '../../server/images/codec/gpt-layout.ts';
import { decodeDiskHead } from '../../server/images/codec/partition-table.ts';
import { GUID_BIOS_BOOT, GUID_ESP, GUID_LINUX_ROOT_X86_64 } from '../../server/images/codec/partition-types.ts';
import { grubBiosBoot } from '../../server/images/build/bios-boot.ts';
import { mmdebstrapArgs } from '../../server/images/build/mmdebstrap.ts';
import { buildKey } from '../../server/images/build/image-builder.ts';
import { stableUuid, stableVolumeId } from '../../server/images/build/stable-ids.ts';
import { run, tmpDir } from './harness/tools.ts';

const work = tmpDir('parts');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('GPT layout', () => {
  it('writes a table sgdisk verifies and reads as laid out, with the backup at the end', () => {
    const sectors = 40 * 2048;
    const parts = [
      { typeGuid: GUID_BIOS_BOOT, uniqueGuid: stableUuid('t', 'p1'), firstLba: 2048, lastLba: 4095, name: 'BIOS boot' },
      { typeGuid: GUID_ESP, uniqueGuid: stableUuid('t', 'p2'), firstLba: 4096, lastLba: 20479, name: 'EFI system' },
      { typeGuid: GUID_LINUX_ROOT_X86_64, uniqueGuid: stableUuid('t', 'p3'), firstLba: 20480, lastLba: sectors - 2049, name: 'root' },
    ];
    const g = layoutGpt(sectors, stableUuid('t', 'disk'), parts);
    const f = path.join(work, 'layout.img');
    fs.writeFileSync(f, '');
    fs.truncateSync(f, sectors * 512);
    const fd = fs.openSync(f, 'r+');
    fs.writeSync(fd, g.headBytes, 0, g.headBytes.length, 0);
    fs.writeSync(fd, g.tailBytes, 0, g.tailBytes.length, g.tailOffset);
    fs.closeSync(fd);
    expect(run('sgdisk', ['-v', f])).toContain('No problems found');
    const printed = run('sgdisk', ['-p', f]);
    expect(printed).toMatch(/1\s+2048\s+4095\s+1024\.0 KiB\s+EF02\s+BIOS boot/);
    expect(printed).toMatch(/3\s+20480\s+79871\s+.*8304\s+root/);
    expect(printed.toLowerCase()).toContain(stableUuid('t', 'disk'));
    const d = decodeDiskHead(new Uint8Array(fs.readFileSync(f).subarray(0, g.headBytes.length)));
    expect(d.kind === 'gpt' && d.entries.map((e) => [e.firstLba, e.lastLba, e.typeGuid, e.name])).toEqual(
      parts.map((p) => [p.firstLba, p.lastLba, p.typeGuid, p.name]),
    );
    expect(g.tailOffset).toBe((sectors - 33) * 512);
  });
  it('refuses a partition outside the usable area', () => {
    expect(() =>
      layoutGpt(4096, stableUuid('t', 'd'), [
        { typeGuid: GUID_ESP, uniqueGuid: stableUuid('t', 'x'), firstLba: 2048, lastLba: 4095, name: 'x' },
      ]),
    ).toThrow(/outside/);
  });
});

describe('GRUB BIOS boot code', () => {
  it('points boot.img at core.img and core.img at its own second sector', () => {
    const boot = new Uint8Array(512).fill(0xaa);
    const core = new Uint8Array(5 * 512 + 100);
    new DataView(core.buffer).setUint16(0x1fc, 5, true); // grub-mkimage: sectors after the first
    const { bootCode, core: patched } = grubBiosBoot(boot, core, 2048);
    expect(bootCode.length).toBe(440);
    expect(new DataView(bootCode.buffer).getBigUint64(0x5c, true)).toBe(2048n);
    expect([bootCode[0x66], bootCode[0x67]]).toEqual([0x90, 0x90]);
    expect(bootCode.subarray(0x03, 0x5a).every((b) => b === 0)).toBe(true);
    expect(bootCode[0x02]).toBe(0xaa);
    expect(new DataView(patched.buffer).getBigUint64(0x1f4, true)).toBe(2049n);
    expect(patched.length).toBe(6 * 512);
  });
  it('refuses a core.img whose blocklist does not match its length', () => {
    expect(() => grubBiosBoot(new Uint8Array(512), new Uint8Array(4 * 512), 2048)).toThrow(/blocklist says 0 sectors/);
  });
});

describe('mmdebstrap command line and cache key', () => {
  const o = {
    suite: 'bookworm',
    mirror: 'http://m/debian',
    securityMirror: 'http://m/debian-security',
    components: ['main'],
    packages: ['linux-image-amd64', 'cloud-init'],
    dpkgExcludes: ['/usr/share/man/*'],
    dpkgIncludes: ['/usr/share/doc/*/copyright'],
    hookDir: '/h',
    outDir: '/o',
    debCacheDir: '/c',
    env: {},
    mode: 'unshare' as const,
  };
  it('names the suite, its updates and security, the hooks in order, and no output tree', () => {
    const a = mmdebstrapArgs(o);
    expect(a).toContain('--mode=unshare');
    expect(a).toContain('--format=null');
    expect(a).toContain('--include=linux-image-amd64,cloud-init');
    expect(a).toContain('--dpkgopt=path-exclude=/usr/share/man/*');
    expect(a.slice(-5)).toEqual([
      'bookworm',
      '/dev/null',
      'deb http://m/debian bookworm main',
      'deb http://m/debian bookworm-updates main',
      'deb http://m/debian-security bookworm-security main',
    ]);
    const hooks = a.filter((x) => x.startsWith('--customize-hook='));
    expect(hooks).toEqual([
      '--customize-hook=/h/customize.sh',
      '--customize-hook=sync-out /var/cache/apt/archives /c',
      '--customize-hook=/h/pack-rootfs.sh',
    ]);
  });
  it('the cache key follows what changes the bytes', () => {
    const base = { epoch: 1, extraPackages: [], components: ['main'], allModules: false };
    expect(buildKey(base)).toBe(buildKey({ ...base }));
    expect(buildKey({ ...base, extraPackages: ['a', 'b'] })).toBe(buildKey({ ...base, extraPackages: ['b', 'a'] }));
    for (const x of [{ epoch: 2 }, { extraPackages: ['x'] }, { components: ['main', 'non-free-firmware'] }, { allModules: true }])
      expect(buildKey({ ...base, ...x })).not.toBe(buildKey(base));
    expect(stableVolumeId('s', 'esp')).toMatch(/^[0-9A-F]{4}-[0-9A-F]{4}$/);
    expect(stableUuid('s', 'a')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('crashcart image build: refusals', () => {
  const cli = (args: string[]) =>
    spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'crashcart.mjs'), 'image', 'build', ...args], {
      encoding: 'utf8',
      timeout: 60_000,
    });
  it('unknown recipes and bad package names are refused before anything runs', () => {
    const r = cli(['ubuntu24', '--data-dir', work]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/CC_ERR_CONFIG_INVALID: .*the recipes are: debian12/);
    const p = cli(['debian12', '--include', 'vim,$(reboot)', '--data-dir', work]);
    expect(p.status).toBe(1);
    expect(p.stderr).toContain('"$(reboot)" is not a Debian package name');
  });
});
