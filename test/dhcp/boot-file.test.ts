/** The first-stage choice per firmware (option 93, vendor class, the node's settings): docs/boot.md's table, row by row. */
import { describe, expect, it } from 'vitest';
import { decode } from '../../server/dhcp/codec.ts';
import { collectOptions } from '../../server/dhcp/options.ts';
import { bootFileFor, classifyClient, unservedReason, type BootFileContext } from '../../server/dhcp/classify.ts';
import { dhcpFromHex } from './fixture-packets.ts';
import { clientPacket } from './helpers.ts';

const MAC = '52:54:00:00:00:01';
const ctx: BootFileContext = { publicUrl: 'http://10.9.0.1:8026', efiLoader: 'ipxe.efi', secureChain: false, uboot: false, mac: MAC };
const facts = (opts: [number, number[] | string][], mac = MAC) =>
  classifyClient(collectOptions(decode(clientPacket({ mac, options: [[53, [1]], ...opts] }))));
const pxe = (arch: number) =>
  facts([
    [60, `PXEClient:Arch:${String(arch).padStart(5, '0')}:UNDI:003000`],
    [93, [arch >> 8, arch & 255]],
  ]);
const http = (arch: number) =>
  facts([
    [60, `HTTPClient:Arch:${String(arch).padStart(5, '0')}:UNDI:003000`],
    [93, [arch >> 8, arch & 255]],
  ]);
const file = (c: ReturnType<typeof facts>, over: Partial<BootFileContext> = {}) => bootFileFor(c, { ...ctx, ...over })?.file ?? null;

describe('PXE (TFTP) clients by option 93', () => {
  it('0 BIOS: undionly.kpxe; no option 93 at all is taken as BIOS', () => {
    expect(file(pxe(0))).toBe('undionly.kpxe');
    expect(file(facts([[60, 'PXEClient']]))).toBe('undionly.kpxe');
  });
  it('7 and 9 x86-64 UEFI: the node iPXE build, or shimx64.efi on the signed chain', () => {
    for (const a of [7, 9]) {
      expect(file(pxe(a))).toBe('ipxe.efi');
      expect(file(pxe(a), { efiLoader: 'snponly.efi' })).toBe('snponly.efi');
      expect(file(pxe(a), { secureChain: true, efiLoader: 'snponly.efi' })).toBe('shimx64.efi');
    }
  });
  it('11 arm64 UEFI: shimaa64.efi with or without Secure Boot (it runs either way); grubaa64.efi for a U-Boot MAC', () => {
    expect(file(pxe(11))).toBe('shimaa64.efi');
    expect(file(pxe(11), { secureChain: true })).toBe('shimaa64.efi');
    const uboot = bootFileFor(pxe(11), { ...ctx, uboot: true });
    expect(uboot).toEqual({ file: 'grubaa64.efi', vendorClass: 'PXEClient', kind: 'tftp', fullOnly: true });
  });
  it('6 EFI IA32 and 10 EFI ARM32: no file, and the reason names the firmware and the way out', () => {
    expect(file(pxe(6))).toBeNull();
    expect(file(pxe(10))).toBeNull();
    expect(unservedReason(pxe(6), ctx)).toMatch(/^EFI IA32 firmware: .*legacy BIOS PXE or x86-64 UEFI/);
    expect(unservedReason(pxe(10), ctx)).toMatch(/^EFI ARM32 firmware/);
    expect(unservedReason(pxe(4242), ctx)).toMatch(/client architecture 4242 .* docs\/boot.md/);
  });
});

describe('UEFI HTTP boot clients (option 60 HTTPClient, RFC 4578 types 15-19)', () => {
  it('16 x86-64: the iPXE URL on the node plane, answered with HTTPClient', () => {
    expect(bootFileFor(http(16), ctx)).toEqual({
      file: 'http://10.9.0.1:8026/ipxe/ipxe.efi',
      vendorClass: 'HTTPClient',
      kind: 'http-loader',
    });
    expect(file(http(16), { efiLoader: 'snponly.efi' })).toBe('http://10.9.0.1:8026/ipxe/snponly.efi');
  });
  it('16 on the signed chain and 19 arm64: no answer (signed GRUB reads TFTP only), so the firmware falls back to PXE', () => {
    expect(file(http(16), { secureChain: true })).toBeNull();
    expect(unservedReason(http(16), { ...ctx, secureChain: true })).toMatch(/signed chain: .*TFTP only; let the firmware fall back to PXE/);
    expect(file(http(19))).toBeNull();
    expect(unservedReason(http(19), ctx)).toMatch(/^arm64 UEFI HTTP boot: .*fall back to PXE \(it then boots shimaa64.efi\)/);
  });
  it('15 x86 IA32 and 18 ARM32: no loader (18 used to get the arm64 one)', () => {
    expect(file(http(15))).toBeNull();
    expect(file(http(18))).toBeNull();
    expect(unservedReason(http(18), ctx)).toMatch(/^EFI ARM32/);
  });
  it('HTTPClient without option 93 is taken as x86-64', () => {
    expect(file(facts([[60, 'HTTPClient']]))).toBe('http://10.9.0.1:8026/ipxe/ipxe.efi');
  });
});

describe('U-Boot and Raspberry Pi', () => {
  it('the captured U-Boot armv8 request (arch 22): grubaa64.efi, full DHCP only', () => {
    const c = classifyClient(collectOptions(decode(dhcpFromHex('uboot-armv8-arch22-request.hex'))));
    expect(c).toMatchObject({ arch: 22, uboot: true, pxe: false, http: false, vendorClass: 'U-Boot.armv8' });
    expect(bootFileFor(c, { ...ctx, mac: 'e4:5f:01:d0:2a:f3' })).toEqual({
      file: 'grubaa64.efi',
      vendorClass: null,
      kind: 'tftp',
      fullOnly: true,
    });
  });
  it('U-Boot on 32-bit ARM (arch 21, U-Boot.armv7): no file', () => {
    const c = facts([
      [60, 'U-Boot.armv7'],
      [93, [0, 21]],
    ]);
    expect(c.uboot).toBe(true);
    expect(file(c)).toBeNull();
    expect(unservedReason(c, ctx)).toMatch(/^U-Boot on 32-bit ARM/);
  });
  it('a Raspberry Pi boot ROM (arch 0 from a Pi OUI, or arch 41): no x86 loader', () => {
    const c = classifyClient(collectOptions(decode(dhcpFromHex('rpi-bootloader-pxe-arch0-discover.hex'))));
    expect(file(c, { mac: 'b8:27:eb:9b:65:d4' })).toBeNull();
    expect(unservedReason(c, { ...ctx, mac: 'b8:27:eb:9b:65:d4' })).toMatch(/^a Raspberry Pi boot ROM/);
    for (const oui of ['dc:a6:32', 'e4:5f:01', 'd8:3a:dd', '2c:cf:67']) expect(file(pxe(0), { mac: `${oui}:00:00:01` })).toBeNull();
    expect(file(pxe(41))).toBeNull();
    // The same ROM request from any other NIC is an x86 BIOS.
    expect(file(c)).toBe('undionly.kpxe');
  });
});

describe('iPXE and everything else', () => {
  it('breaks the chainload loop only for our user class or 175 + iPXE', () => {
    expect(file(facts([[77, 'crashcart']]))).toBe('http://10.9.0.1:8026/boot.ipxe');
    expect(
      bootFileFor(
        facts([
          [60, 'PXEClient'],
          [93, [0, 0]],
          [77, 'iPXE'],
          [175, [177, 1, 1]],
        ]),
        ctx,
      )?.kind,
    ).toBe('script');
    // A vendor iPXE without a user class gets the first stage (it then runs our iPXE), never a loop-free guess.
    expect(
      file(
        facts([
          [60, 'PXEClient'],
          [93, [0, 0]],
          [175, [177, 1, 1]],
        ]),
      ),
    ).toBe('undionly.kpxe');
    expect(
      file(
        facts([
          [60, 'PXEClient'],
          [93, [0, 0]],
          [77, 'iPXE'],
        ]),
      ),
    ).toBe('undionly.kpxe');
  });
  it('a plain DHCP client is not a boot client', () => {
    expect(bootFileFor(facts([[60, 'MSFT 5.0']]), ctx)).toBeNull();
    expect(bootFileFor(facts([]), ctx)).toBeNull();
  });
});
