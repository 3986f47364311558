/**
 * Synthetic client packets for the warm start (warm-start.ts): what a rack sends, built with our own codec, so
 * V8's type feedback during the warm start matches a real storm. Three kinds: a PXE ROM (PXE 2.1: options 60
 * `PXEClient:Arch:...`, 93, 94, 97), iPXE (user class `iPXE` as a bare string and option 175), each on BIOS and
 * UEFI x64, and an operating system's client (client identifier, host name, no PXE options: the microkernel, an
 * installed OS, a DHCP load generator); direct (broadcast) and relayed (RFC 2131 4.1: giaddr, hops 1). Pure.
 */
import { encodeClientRequest } from './client-request.ts';
import { FLAG_BROADCAST } from './reply.ts';
import { MSG, OPTIONS, option } from './options.ts';

/** One synthetic client: a MAC, a firmware kind and where it speaks from. */
export interface WarmClient {
  mac: Uint8Array;
  /** Option 93: 0 BIOS, 7 UEFI x64 (RFC 4578 2.1). */
  arch: number;
  /** A PXE ROM, iPXE (user class + option 175), or an OS's DHCP client (no boot options). */
  kind: 'pxe' | 'ipxe' | 'os';
  /** giaddr of the relay, or null for a broadcast on the link. */
  giaddr: string | null;
}

/** Messages a warm exchange sends: DISCOVER, or REQUEST for `requested` from `serverId` (full) / with `ciaddr` (proxy, 4011). */
export type WarmMessage =
  { type: typeof MSG.DISCOVER } | { type: typeof MSG.REQUEST; requested: string | null; serverId: string | null; ciaddr: string };

// PXE ROMs ask for the PXE 2.1 set (43, 60, 66, 67, 97, 128-135) besides the usual ones; iPXE for its own 175.
const PXE_PARAMS = [
  1, 2, 3, 4, 5, 6, 12, 13, 15, 17, 18, 22, 23, 28, 40, 41, 42, 43, 50, 51, 52, 54, 58, 59, 60, 66, 67, 97, 128, 129, 130, 131, 132, 133,
  134, 135,
];
const OS_PARAMS = [1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42];
const IPXE_PARAMS = [1, 3, 6, 7, 12, 15, 17, 26, 43, 60, 66, 67, 119, 128, 129, 130, 131, 132, 133, 134, 135, 175, 203];
// iPXE's 175 announces its features as sub-options of length 1 (PXE extensions, HTTP, HTTPS, TFTP, DNS, bzImage, ...) and its version.
const IPXE_FEATURES: [number, Uint8Array][] = [16, 19, 20, 21, 23, 24, 25, 33, 39].map((c) => [c, Uint8Array.of(1)]);
const IPXE_VERSION: [number, Uint8Array] = [235, Uint8Array.of(1, 21, 1)];

/** The MAC of warm client `i`: locally administered (IEEE 802: bit 1 of the first byte), never a real NIC's. */
export function warmMac(i: number): Uint8Array {
  return Uint8Array.of(0x0a, 0xcc, (i >>> 24) & 255, (i >>> 16) & 255, (i >>> 8) & 255, i & 255);
}

/** A GUID for option 97 derived from the MAC (SMBIOS UUIDs are per machine). */
function guidOf(mac: Uint8Array): string {
  const h = Buffer.from(mac).toString('hex');
  return `4c4c4544-0042-3010-8031-${h}`;
}

function vendorClass(arch: number): string {
  // PXE 2.1 / RFC 4578: PXEClient:Arch:AAAAA:UNDI:MMMmmm (iPXE sends the same form).
  return `PXEClient:Arch:${String(arch).padStart(5, '0')}:UNDI:003016`;
}

/** Encode one client message as the firmware would put it on the wire (padded to the BOOTP minimum). */
export function warmPacket(cl: WarmClient, xid: number, m: WarmMessage): Buffer {
  const opts: [number, Uint8Array][] = [option(OPTIONS.MESSAGE_TYPE, m.type)];
  if (m.type === MSG.REQUEST && m.requested) opts.push(option(OPTIONS.REQUESTED_IP, m.requested));
  if (m.type === MSG.REQUEST && m.serverId) opts.push(option(OPTIONS.SERVER_ID, m.serverId));
  if (cl.kind === 'os') {
    // RFC 2132 9.14: hardware type 1 + MAC as the client identifier, as dhclient and systemd-networkd send it.
    opts.push([OPTIONS.CLIENT_ID.code, Uint8Array.of(1, ...cl.mac)]);
    opts.push(option(OPTIONS.MAX_MESSAGE, 1500));
    opts.push(option(OPTIONS.HOSTNAME, `node-${Buffer.from(cl.mac.subarray(3)).toString('hex')}`));
    opts.push(option(OPTIONS.PARAM_LIST, OS_PARAMS));
    return finish(cl, xid, m, opts);
  }
  opts.push(option(OPTIONS.MAX_MESSAGE, cl.kind === 'ipxe' ? 1472 : 1260));
  opts.push(option(OPTIONS.PARAM_LIST, cl.kind === 'ipxe' ? IPXE_PARAMS : PXE_PARAMS));
  opts.push(option(OPTIONS.CLIENT_ARCH, [cl.arch]));
  opts.push(option(OPTIONS.CLIENT_NDI, { type: 1, major: 3, minor: 16 }));
  opts.push(option(OPTIONS.CLIENT_GUID, guidOf(cl.mac)));
  opts.push(option(OPTIONS.VENDOR_CLASS, vendorClass(cl.arch)));
  if (cl.kind === 'ipxe') {
    // iPXE sends its user class as one bare string, not RFC 3004's length-prefixed list.
    opts.push([OPTIONS.USER_CLASS.code, Uint8Array.from(Buffer.from('iPXE', 'latin1'))]);
    opts.push(option(OPTIONS.IPXE_ENCAP, [...IPXE_FEATURES, IPXE_VERSION]));
  }
  return finish(cl, xid, m, opts);
}

/** The BOOTP header around the options; a Buffer, as a socket delivers it. */
function finish(cl: WarmClient, xid: number, m: WarmMessage, opts: [number, Uint8Array][]): Buffer {
  const b = encodeClientRequest({
    mac: cl.mac,
    xid,
    secs: 4,
    // PXE ROMs set the broadcast flag (PXE 2.1 2.2.1); iPXE does not.
    flags: cl.kind === 'pxe' ? FLAG_BROADCAST : 0,
    ciaddr: m.type === MSG.REQUEST ? m.ciaddr : '0.0.0.0',
    giaddr: cl.giaddr,
    options: opts,
  });
  return Buffer.from(b.buffer, b.byteOffset, b.length);
}
