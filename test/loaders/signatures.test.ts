/**
 * The Secure Boot chain's signatures, read with sbverify (Debian's sbsigntool): shim is signed by
 * Microsoft's UEFI CA, network GRUB and the microkernel's kernel by Debian's Secure Boot CA (the key shim
 * trusts), iPXE by nobody. A microkernel built from another kernel would break the chain: this says so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { prepareCachedLoaders } from '../support/cached-loaders.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const MICROSOFT_UEFI_CA = '/C=US/ST=Washington/L=Redmond/O=Microsoft Corporation/CN=Microsoft Corporation UEFI CA 2011';
const DEBIAN_CA = '/CN=Debian Secure Boot CA';
let dir: string;

/** The signature issuers sbverify lists for a PE image (empty when it has no signature table). */
function issuers(file: string): string[] {
  const out = execFileSync('sbverify', ['--list', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const m = out.split('image signature issuers:\n')[1]?.split('image signature certificates:')[0] ?? '';
  return m
    .split('\n')
    .map((l) => l.replace(/^\s*-\s*/, '').trim())
    .filter(Boolean);
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), `cc-loaders-sig-${process.pid}-`));
  // From the cache ensure-test-deps fills, never the network: without it this throws naming the fix.
  await prepareCachedLoaders({ targetDir: dir, scratchDir: path.join(dir, 'cache') });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Secure Boot signatures of what we serve', () => {
  it('shimx64.efi and shimaa64.efi are signed by Microsoft\u2019s UEFI CA', () => {
    expect(issuers(path.join(dir, 'shimx64.efi'))).toEqual([MICROSOFT_UEFI_CA]);
    expect(issuers(path.join(dir, 'shimaa64.efi'))).toEqual([MICROSOFT_UEFI_CA]);
  });
  it('grubx64.efi and grubaa64.efi are signed by Debian\u2019s Secure Boot CA', () => {
    expect(issuers(path.join(dir, 'grubx64.efi'))).toEqual([DEBIAN_CA]);
    expect(issuers(path.join(dir, 'grubaa64.efi'))).toEqual([DEBIAN_CA]);
  });
  it('iPXE is unsigned (so Secure Boot machines must get the shim chain)', () => {
    expect(issuers(path.join(dir, 'ipxe.efi'))).toEqual([]);
    expect(issuers(path.join(dir, 'snponly.efi'))).toEqual([]);
  });
  it('the microkernel kernel is Debian\u2019s signed one (build/out/microkernel/vmlinuz)', () => {
    const vmlinuz = path.join(REPO, 'build/out/microkernel/vmlinuz');
    expect(existsSync(vmlinuz), 'build the microkernel first: npm run build:microkernel (ensure-test-deps does)').toBe(true);
    expect(issuers(vmlinuz)).toEqual([DEBIAN_CA]);
  });
});
