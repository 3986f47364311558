/**
 * The fetched loaders run on real UEFI firmware: Debian's AAVMF (arm64) and OVMF (x86_64) PXE-boot them
 * from QEMU's user-mode network. GRUB proves it ran by printing a per-run nonce from the grub/grub.cfg it
 * read over TFTP; iPXE by its banner and its own DHCP + TFTP fetch. Under Secure Boot (Microsoft keys
 * enrolled) the signed chain runs and an unsigned loader is refused, so each check can fail.
 * Run alone on a shared machine: `flock /tmp/cc-qemu.lock npx vitest run test/loaders/firmware-smoke.test.ts`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { prepareCachedLoaders } from '../support/cached-loaders.ts';
import { killGuests, pxeBoot } from './qemu-boot.ts';

/** A generous bound for one TCG boot on a busy 2-core machine (a bound, not a timing assertion). */
const BOOT_BOUND_MS = 240_000;
const IPXE_BANNER = 'iPXE 1.0.0+git-20190125.36a4c85-5.1 -- Open Source Network Boot Firmware';
/** OVMF/AAVMF's words when the image verification fails under Secure Boot. */
const REFUSED = /failed to (load|start) Boot\d+ "UEFI PXEv4[^\n]*: (Access Denied|Security Violation)/;

let work: string;
let tftp: string;
let marker: string;

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), `cc-loaders-qemu-${process.pid}-`));
  tftp = path.join(work, 'tftp');
  // From the cache ensure-test-deps fills, never the network: without it this throws naming the fix.
  await prepareCachedLoaders({ targetDir: tftp, scratchDir: path.join(work, 'cache') });
  marker = `CRASHCART-LOADER-${randomBytes(6).toString('hex')}`;
  // Debian's network GRUB sets prefix=(tftp,SERVER)/grub and reads grub/grub.cfg (docs/boot.md).
  mkdirSync(path.join(tftp, 'grub'));
  writeFileSync(path.join(tftp, 'grub/grub.cfg'), `echo ${marker} cpu=$grub_cpu platform=$grub_platform mac=$net_default_mac\nhalt\n`);
  // The signed shim with its signature stripped: the firmware must refuse it under Secure Boot.
  copyFileSync(path.join(tftp, 'shimaa64.efi'), path.join(tftp, 'unsigned-shimaa64.efi'));
  execFileSync('sbattach', ['--remove', path.join(tftp, 'unsigned-shimaa64.efi')], { stdio: 'pipe' });
});
afterAll(() => {
  killGuests();
  rmSync(work, { recursive: true, force: true });
});

/** GRUB's variables the appliance's grub.cfg will dispatch on; 52:54:00:12:34:56 is QEMU's default MAC. */
const grubRan = (cpu: string) => new RegExp(`${marker} cpu=${cpu} platform=efi mac=52:54:00:12:34:56`);

describe('arm64 UEFI (AAVMF, DHCP arch 11)', () => {
  it(
    'PXE-boots shimaa64.efi, which loads grubaa64.efi, which reads grub/grub.cfg over TFTP',
    { timeout: BOOT_BOUND_MS + 30_000 },
    async () => {
      const r = await pxeBoot('aavmf', tftp, 'shimaa64.efi', grubRan('arm64'), BOOT_BOUND_MS);
      expect(r.console).toContain('NBP filename is shimaa64.efi');
      expect(r.console).toContain('Fetching Netboot Image grubaa64.efi');
      expect(r.matched, r.console.slice(-2000)).toBe(true);
    },
  );

  it(
    'with Secure Boot enforced runs the signed chain and refuses the same shim unsigned',
    { timeout: 2 * BOOT_BOUND_MS + 30_000 },
    async () => {
      const ok = await pxeBoot('aavmf-secureboot', tftp, 'shimaa64.efi', grubRan('arm64'), BOOT_BOUND_MS);
      expect(ok.matched, ok.console.slice(-2000)).toBe(true);
      const refused = await pxeBoot('aavmf-secureboot', tftp, 'unsigned-shimaa64.efi', REFUSED, BOOT_BOUND_MS);
      expect(refused.matched, refused.console.slice(-2000)).toBe(true);
      expect(refused.console).not.toContain('Welcome to GRUB');
    },
  );
});

describe("x86 BIOS (SeaBIOS; QEMU's iPXE NIC ROM is the PXE ROM, DHCP arch 0)", () => {
  // undionly.kpxe is Debian's, its compressed payload unpacked, patched (the 0.3 s prompt) and packed again by
  // Crashcart's own LZMA encoder (registry IPXE_BIOS_BANNER_PATCH). iPXE's prefix checks the stream's CRC, unpacks
  // it, and runs it: the banner, the UNDI driver, its own DHCP and TFTP fetch (of itself: QEMU names one boot file).
  const NBP = /undionly\.kpxe : \d+ bytes \[PXE-NBP\][\s\S]*PXE->EB:/;
  it(
    'runs the repacked undionly.kpxe: the prefix unpacks it, then the banner, UNDI, DHCP and TFTP',
    { timeout: BOOT_BOUND_MS + 30_000 },
    async () => {
      const r = await pxeBoot(
        'seabios',
        tftp,
        'undionly.kpxe',
        new RegExp(`${NBP.source}[\\s\\S]*using undionly on[\\s\\S]*tftp://10\\.0\\.2\\.2/undionly\\.kpxe\\.\\.\\. ok`),
        BOOT_BOUND_MS,
      );
      expect(r.matched, r.console.slice(-2000)).toBe(true);
      const after = r.console.slice(r.console.search(NBP));
      expect(after).toContain(IPXE_BANNER);
      expect(after).toContain('Press Ctrl-B for the iPXE command line');
      expect(after).not.toContain('Installation failed');
    },
  );

  it('undionly.kpxe: Ctrl-B held down as it starts opens its command line', { timeout: BOOT_BOUND_MS + 30_000 }, async () => {
    // Keys from the NBP's first line on, so the ROM's own "Press Ctrl-B to configure" has passed.
    const r = await pxeBoot('seabios', tftp, 'undionly.kpxe', /iPXE> /, BOOT_BOUND_MS, { after: NBP, send: '\x02', everyMs: 50 });
    expect(r.matched, r.console.slice(-2000)).toBe(true);
    const after = r.console.slice(r.console.search(NBP));
    expect(after).toContain('Press Ctrl-B for the iPXE command line');
    expect(after).not.toMatch(/Configuring \(net0/);
  });
});

describe('x86_64 UEFI (OVMF, DHCP arch 7)', () => {
  for (const loader of ['ipxe.efi', 'snponly.efi'])
    it(`runs ${loader}: the iPXE banner, then iPXE's own DHCP and TFTP fetch`, { timeout: BOOT_BOUND_MS + 30_000 }, async () => {
      const fetched = new RegExp(`tftp://10\\.0\\.2\\.2/${loader.replace('.', '\\.')}\\.\\.\\. ok`);
      const r = await pxeBoot('ovmf', tftp, loader, fetched, BOOT_BOUND_MS);
      expect(r.console).toContain(IPXE_BANNER);
      expect(r.matched, r.console.slice(-2000)).toBe(true);
    });

  // The registry shortens iPXE's "Press Ctrl-B" wait from 2 s to 0.3 s (registry.ts, IPXE_BANNER_PATCH): the shell
  // must still be reachable by Ctrl-B held down as iPXE starts (here: sent every 50 ms from iPXE's first line on).
  for (const loader of ['ipxe.efi', 'snponly.efi'])
    it(`${loader}: Ctrl-B held down as iPXE starts opens its command line`, { timeout: BOOT_BOUND_MS + 30_000 }, async () => {
      const r = await pxeBoot('ovmf', tftp, loader, /iPXE> /, BOOT_BOUND_MS, {
        after: /iPXE initialising devices/,
        send: '\x02',
        everyMs: 50,
      });
      expect(r.console).toContain('Press Ctrl-B for the iPXE command line');
      expect(r.matched, r.console.slice(-2000)).toBe(true);
      // The shell came instead of the boot: iPXE never asked DHCP.
      expect(r.console).not.toMatch(/Configuring \(net0/);
    });

  it(
    'with Secure Boot enforced runs shimx64.efi -> grubx64.efi and refuses the unsigned ipxe.efi',
    { timeout: 2 * BOOT_BOUND_MS + 30_000 },
    async () => {
      const ok = await pxeBoot('ovmf-secureboot', tftp, 'shimx64.efi', grubRan('x86_64'), BOOT_BOUND_MS);
      expect(ok.console).toContain('Fetching Netboot Image grubx64.efi');
      expect(ok.matched, ok.console.slice(-2000)).toBe(true);
      const refused = await pxeBoot('ovmf-secureboot', tftp, 'ipxe.efi', REFUSED, BOOT_BOUND_MS);
      expect(refused.matched, refused.console.slice(-2000)).toBe(true);
      expect(refused.console).not.toContain(IPXE_BANNER);
    },
  );
});
