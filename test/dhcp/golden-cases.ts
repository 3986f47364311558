/**
 * Golden reply cases: captured requests (test/fixtures/dhcp) played in order into
 * a fresh plugin on memory with a fixed clock; each step's reply (or silence) is
 * compared with a file in test/fixtures/dhcp/golden/. A case is a link: the
 * appliance's address, mode, pools, options and reservations.
 */
import type { Config } from '../../server/config/schema.ts';
import type { Reservation } from '../../server/dhcp/lease-table.ts';
import type { Peer } from '../../server/net/pinned-udp.ts';
import { decode, encode } from '../../server/dhcp/codec.ts';
import { dhcpFromHex, dhcpFromPcap } from './fixture-packets.ts';

/** One request of a case. */
export interface GoldenStep {
  /** `file.pcap#index` (the datagram's frame index) or `file.hex`. */
  capture: string;
  /** Arrives on the proxy port (4011) instead of 67. */
  proxyPort?: boolean;
  /** Source of the datagram (default: a client without an address, 0.0.0.0:68). */
  from?: Peer;
  /** What the step shows, for the file header. */
  why: string;
  /**
   * Replay the capture as firmware of another architecture would send it: option 93 and the `Arch:NNNNN`
   * of the vendor class rewritten (for types no capture exists of, e.g. 6 EFI IA32, 18 ARM32 HTTP).
   */
  arch?: number;
}

/** One link and what arrives on it. */
export interface GoldenCase {
  name: string;
  config: Partial<Config>;
  reservations?: Reservation[];
  /** MACs whose settings give UEFI the signed shim chain (boot_chain, resolved by the core). */
  secure?: string[];
  /** MACs the core knows as U-Boot (they sent option 93 = 22 before). */
  uboot?: string[];
  /**
   * Offers outstanding when the case starts: a capture that holds a client's SELECTING REQUEST but not the DISCOVER
   * before it. A REQUEST that answers no offer gets a NAK (RFC 2131 4.3.2, full-server.ts).
   */
  offers?: { mac: string; ip: string }[];
  steps: GoldenStep[];
}

/** The request bytes of a capture reference, optionally as another architecture sends it. */
export function captureBytes(ref: string, arch?: number): Uint8Array {
  const [file, index] = ref.split('#') as [string, string | undefined];
  let bytes: Uint8Array;
  if (index === undefined) bytes = dhcpFromHex(file);
  else {
    const d = dhcpFromPcap(file).find((x) => x.index === Number(index));
    if (!d) throw new Error(`${ref}: no DHCP datagram at that frame`);
    bytes = d.payload;
  }
  return arch === undefined ? bytes : withArch(bytes, arch);
}

/** The same request with option 93 = `arch` and the vendor class's `Arch:NNNNN` to match (RFC 4578 2.1). */
function withArch(bytes: Uint8Array, arch: number): Uint8Array {
  const p = decode(bytes);
  let found = false;
  p.options = p.options.map((o) => {
    if (o.code === 93) {
      found = true;
      return { code: 93, data: Uint8Array.of(arch >> 8, arch & 0xff) };
    }
    if (o.code === 60) {
      const vc = Buffer.from(o.data)
        .toString('latin1')
        .replace(/Arch:\d{5}/, `Arch:${String(arch).padStart(5, '0')}`);
      return { code: 60, data: Uint8Array.from(Buffer.from(vc, 'latin1')) };
    }
    return o;
  });
  if (!found) throw new Error('the capture has no option 93 to rewrite');
  return encode(p);
}

const full = (ip: string, prefix: number, start: string, end: string): Partial<Config> => ({
  dhcp: 'full',
  address: { ip, prefix },
  range: { start, end },
  publicUrl: `http://${ip}:8026`,
  force: true,
});

/** Every golden case. */
export const GOLDEN_CASES: GoldenCase[] = [
  {
    name: 'seabios-ipxe',
    config: full('10.0.2.2', 24, '10.0.2.15', '10.0.2.40'),
    steps: [
      { capture: 'qemu-seabios-ipxe-bios-pxe.pcap#0', why: 'iPXE ROM (77 iPXE + 175): the boot script URL, 175/176 no-pxedhcp' },
      { capture: 'qemu-seabios-ipxe-bios-pxe.pcap#10', why: 'its REQUEST (SELECTING, 54 = us): ACK with the same boot answer' },
    ],
  },
  {
    name: 'ovmf-x64',
    config: full('10.0.2.2', 24, '10.0.2.15', '10.0.2.40'),
    steps: [
      {
        capture: 'qemu-ovmf-x64-uefi-pxe-and-httpboot.pcap#0',
        why: 'UEFI PXE arch 7: ipxe.efi by TFTP, 43 discovery control 8, 97 echoed',
      },
      { capture: 'qemu-ovmf-x64-uefi-pxe-and-httpboot.pcap#4', why: 'its REQUEST: ACK' },
      {
        capture: 'qemu-ovmf-x64-uefi-pxe-and-httpboot.pcap#28',
        why: 'UEFI HTTP boot arch 16: the loader URL, 60 HTTPClient, same address',
      },
    ],
  },
  {
    name: 'classic-dora',
    config: full('192.168.0.1', 24, '192.168.0.10', '192.168.0.50'),
    steps: [
      { capture: 'classic-discover-offer-request-ack.pcap#0', why: 'a plain client: address, no boot information' },
      { capture: 'classic-discover-offer-request-ack.pcap#2', why: 'its REQUEST: ACK, on disk before it leaves' },
      { capture: 'networkmanager-rebinding-request-padded.hex', why: 'INIT-REBOOT from a MAC with no record: silence (RFC 2131 4.3.2)' },
    ],
  },
  {
    name: 'user-class',
    config: full('192.168.1.1', 24, '192.168.1.4', '192.168.1.20'),
    steps: [
      { capture: 'user-class-rfc3004.pcap#0', why: 'RFC 3004 user classes, requested address 50 honoured' },
      { capture: 'user-class-rfc3004.pcap#2', why: 'its REQUEST: ACK' },
      { capture: 'windows-msft5-request.pcap#0', why: 'Windows INIT-REBOOT with no record: silence' },
    ],
  },
  {
    name: 'operator-extras',
    config: {
      ...full('10.9.0.1', 24, '10.9.0.100', '10.9.0.199'),
      dhcpOptions: [
        { code: 3, type: 'ips', value: '10.9.0.254' },
        { code: 42, type: 'ips', value: '10.9.0.1' },
        { code: 119, type: 'domains', value: 'rack1.lab.example,lab.example' },
      ],
    },
    reservations: [{ mac: 'b8:27:eb:9b:65:d4', ip: '10.9.0.50', hostname: 'pi-1' }],
    steps: [
      {
        capture: 'rpi-bootloader-pxe-arch0-discover.hex',
        why: 'a reserved Raspberry Pi boot ROM: its address and host name, extras, no x86 loader (dhcp.unsupported)',
      },
      { capture: 'x86_64-uefi-httpclient-arch16-discover.hex', why: 'physical UEFI HTTP boot: loader URL, extras, 3 replaced' },
      { capture: 'discover.hex', why: 'a DISCOVER whose own options overload file and sname' },
    ],
  },
  {
    name: 'proxy-ovmf',
    config: { dhcp: 'proxy', address: { ip: '192.168.77.2', prefix: 24 }, range: null, publicUrl: 'http://192.168.77.2:8026', force: true },
    steps: [
      { capture: 'lab-ovmf-x64-uefi-proxydhcp-4011.pcap#0', why: 'proxy OFFER: no address, 54 = us, first UEFI strategy omits 43' },
      { capture: 'lab-ovmf-x64-uefi-proxydhcp-4011.pcap#3', why: 'a REQUEST on 67 is the other server business: silence' },
      {
        capture: 'lab-ovmf-x64-uefi-proxydhcp-4011.pcap#5',
        proxyPort: true,
        from: { address: '192.168.77.132', port: 4011 },
        why: 'the 4011 REQUEST: boot-server ACK to the port it came from',
      },
      { capture: 'lab-ovmf-x64-uefi-proxydhcp-4011.pcap#13', why: 'HTTP boot in proxy mode: the loader URL, 60 HTTPClient' },
      {
        capture: 'qemu-seabios-ipxe-bios-pxe.pcap#0',
        why: 'the iPXE ROM in proxy mode: a ProxyDHCPOFFER iPXE takes at once (54, 60 PXEClient, siaddr, the script URL)',
      },
    ],
  },
  {
    name: 'secure-boot-x64',
    config: full('10.0.2.2', 24, '10.0.2.15', '10.0.2.40'),
    secure: ['52:54:00:12:34:02'],
    steps: [
      {
        capture: 'qemu-ovmf-x64-uefi-pxe-and-httpboot.pcap#0',
        why: 'UEFI PXE arch 7 of a node whose boot_chain is shim: shimx64.efi by TFTP (it loads grubx64.efi beside it)',
      },
      { capture: 'qemu-ovmf-x64-uefi-pxe-and-httpboot.pcap#4', why: 'its REQUEST: ACK with the same file' },
      {
        capture: 'qemu-ovmf-x64-uefi-pxe-and-httpboot.pcap#28',
        why: 'HTTP boot arch 16 of the same node: an address, no file (signed GRUB reads TFTP only: the firmware falls back to PXE)',
      },
    ],
  },
  {
    name: 'arm64-and-32-bit',
    config: full('10.0.2.2', 24, '10.0.2.15', '10.0.2.40'),
    steps: [
      { capture: 'qemu-ovmf-x64-uefi-pxe-and-httpboot.pcap#0', arch: 11, why: 'arm64 UEFI PXE: shimaa64.efi by TFTP' },
      {
        capture: 'qemu-ovmf-x64-uefi-pxe-and-httpboot.pcap#28',
        arch: 19,
        why: 'arm64 UEFI HTTP boot: an address, no file (its chain reads TFTP only)',
      },
      {
        capture: 'qemu-ovmf-x64-uefi-pxe-and-httpboot.pcap#0',
        arch: 6,
        why: 'EFI IA32: an address but no boot file (dhcp.unsupported event)',
      },
      { capture: 'qemu-ovmf-x64-uefi-pxe-and-httpboot.pcap#0', arch: 10, why: 'EFI ARM32: an address but no boot file' },
      { capture: 'qemu-ovmf-x64-uefi-pxe-and-httpboot.pcap#28', arch: 18, why: 'ARM32 HTTP boot: no loader URL (was the arm64 one)' },
    ],
  },
  {
    name: 'uboot-armv8',
    config: full('10.0.0.1', 24, '10.0.0.10', '10.0.0.50'),
    // The capture is U-Boot's REQUEST alone; the OFFER it answers was made before.
    offers: [{ mac: 'e4:5f:01:d0:2a:f3', ip: '10.0.0.19' }],
    steps: [
      {
        capture: 'uboot-armv8-arch22-request.hex',
        why: 'U-Boot armv8 (arch 22) REQUEST for our offer: ACK, next-server us, grubaa64.efi (GRUB runs on U-Boot UEFI)',
      },
      {
        capture: 'qemu-ovmf-x64-uefi-pxe-and-httpboot.pcap#0',
        arch: 11,
        why: 'an arm64 UEFI PXE client whose MAC is not known as U-Boot: shimaa64.efi',
      },
    ],
  },
  {
    name: 'uboot-uefi-step',
    config: full('10.0.2.2', 24, '10.0.2.15', '10.0.2.40'),
    uboot: ['52:54:00:12:34:02'],
    steps: [
      {
        capture: 'qemu-ovmf-x64-uefi-pxe-and-httpboot.pcap#0',
        arch: 11,
        why: 'arch 11 PXE from a MAC that sent arch 22 before (U-Boot distro boot, UEFI step): grubaa64.efi, no shim',
      },
    ],
  },
  {
    name: 'proxy-uboot-and-http',
    config: { dhcp: 'proxy', address: { ip: '192.168.77.2', prefix: 24 }, range: null, publicUrl: 'http://192.168.77.2:8026', force: true },
    secure: ['52:54:00:12:34:05'],
    steps: [
      {
        capture: 'uboot-armv8-arch22-request.hex',
        why: 'a U-Boot REQUEST on 67 in proxy mode: silence (its DISCOVER too: handler.test.ts)',
      },
      {
        capture: 'lab-ovmf-x64-uefi-proxydhcp-4011.pcap#13',
        why: 'HTTP boot in proxy mode of a shim-chain node: silence, so the firmware tries PXE',
      },
      {
        capture: 'lab-ovmf-x64-uefi-proxydhcp-4011.pcap#13',
        arch: 19,
        why: 'arm64 HTTP boot in proxy mode: silence',
      },
    ],
  },
  {
    name: 'relayed-renew',
    config: {
      ...full('10.9.0.1', 24, '10.9.0.100', '10.9.0.199'),
      pools: [{ subnet: '62.12.173.112', prefix: 28, start: '62.12.173.115', end: '62.12.173.126' }],
    },
    reservations: [{ mac: 'b8:27:eb:b8:53:c8', ip: '62.12.173.123', hostname: null }],
    steps: [
      {
        capture: 'dhcpcd-raspberrypi-relayed.pcap#0',
        from: { address: '62.12.173.121', port: 67 },
        why: 'a relayed RENEW of a reserved address: pool by giaddr, ACK to giaddr:67, no router/DNS',
      },
    ],
  },
  {
    name: 'aruba-inform',
    config: full('128.2.6.152', 24, '128.2.6.100', '128.2.6.150'),
    steps: [
      { capture: 'aruba-ap-exchange.pcap#0', why: 'requested address on another network is ignored: offer from the range' },
      { capture: 'aruba-ap-exchange.pcap#2', why: 'SELECTING us for an address on another network: NAK, broadcast' },
      { capture: 'aruba-ap-exchange.pcap#4', why: 'INIT-REBOOT outside the range from a known MAC: NAK' },
      { capture: 'aruba-ap-exchange.pcap#8', why: 'INFORM without ciaddr: silence' },
      { capture: 'inform-ack.pcap#0', from: { address: '128.2.6.122', port: 68 }, why: 'INFORM: configuration, no lease times, to ciaddr' },
    ],
  },
  {
    name: 'busybox',
    config: full('10.100.0.2', 24, '10.100.0.50', '10.100.0.60'),
    steps: [
      { capture: 'busybox-udhcp-option-overload.pcap#0', why: 'udhcpc DISCOVER with a 576-byte max message size' },
      { capture: 'busybox-udhcp-option-overload.pcap#4', why: 'its REQUEST: ACK' },
    ],
  },
];
