import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveInTree } from '../../server/prepare/loaders/tree-path.ts';
import { CcError } from '../../server/errors/cc-error.ts';

// A tree shaped like Debian's unpacked `ipxe` package plus hostile links; the host's real /boot and /etc
// must never be read through it.
let root: string;
beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'cc-loaders-tree-'));
  mkdirSync(path.join(root, 'boot'));
  mkdirSync(path.join(root, 'usr/lib/ipxe'), { recursive: true });
  mkdirSync(path.join(root, 'etc'));
  writeFileSync(path.join(root, 'boot/ipxe.efi'), 'ipxe from the package');
  writeFileSync(path.join(root, 'usr/lib/ipxe/snponly.efi'), 'snp from the package');
  writeFileSync(path.join(root, 'etc/passwd'), 'the package passwd');
  symlinkSync('/boot/ipxe.efi', path.join(root, 'usr/lib/ipxe/ipxe.efi')); // as in ipxe_1.0.0+git-20190125.36a4c85-5.1
  symlinkSync('snponly.efi', path.join(root, 'usr/lib/ipxe/relative.efi'));
  symlinkSync('../../../../../../../../etc/passwd', path.join(root, 'usr/lib/ipxe/climb.efi'));
  symlinkSync('/usr/lib/ipxe', path.join(root, 'usr/lib/alias')); // a directory link mid-path
  symlinkSync('loop-b', path.join(root, 'usr/lib/ipxe/loop-a'));
  symlinkSync('loop-a', path.join(root, 'usr/lib/ipxe/loop-b'));
  symlinkSync('/boot/missing.efi', path.join(root, 'usr/lib/ipxe/dangling.efi'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const read = async (rel: string) => readFileSync(await resolveInTree(root, rel), 'utf8');

describe('resolveInTree: symlinks resolve inside the unpacked package (issue 12)', () => {
  it('an absolute link to /boot/ipxe.efi is the tree\u2019s boot/ipxe.efi, not the host\u2019s', async () => {
    expect(await resolveInTree(root, 'usr/lib/ipxe/ipxe.efi')).toBe(path.join(root, 'boot/ipxe.efi'));
    expect(await read('usr/lib/ipxe/ipxe.efi')).toBe('ipxe from the package');
  });
  it('plain files and relative links resolve as usual', async () => {
    expect(await read('usr/lib/ipxe/snponly.efi')).toBe('snp from the package');
    expect(await read('./usr//lib/ipxe/relative.efi')).toBe('snp from the package');
  });
  it('a directory link in the middle of the path is followed inside the tree', async () => {
    expect(await read('usr/lib/alias/ipxe.efi')).toBe('ipxe from the package');
  });
  it('`..` never climbs above the tree root (a link aiming at the host /etc/passwd stays inside)', async () => {
    expect(await resolveInTree(root, 'usr/lib/ipxe/climb.efi')).toBe(path.join(root, 'etc/passwd'));
    expect(await read('usr/lib/ipxe/climb.efi')).toBe('the package passwd');
  });
  it('a link loop and a dangling link are CC_ERR_LOADER_UNPACK errors that name the path', async () => {
    for (const rel of ['usr/lib/ipxe/loop-a', 'usr/lib/ipxe/dangling.efi', 'usr/lib/ipxe/absent.efi']) {
      const err = await resolveInTree(root, rel).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CcError);
      expect((err as CcError).code).toBe('CC_ERR_LOADER_UNPACK');
      expect((err as CcError).message).toContain(rel);
    }
  });
});
