/**
 * The pure half of the foreign-server probe: the two DISCOVERs it sends (a plain
 * client and a PXE client, so proxyDHCP servers that answer only PXE show up too),
 * reading whatever comes back (hostile servers included: malformed replies still
 * count as a server, strings are cleaned and capped, the list is bounded) and
 * which servers compete with us in each mode.
 */
import type { ForeignServer, PROBE_KINDS } from '../../contract/system.ts';
import { MalformedPacket } from '../net/malformed.ts';
import { cString, decode } from './codec.ts';
import { encodeClientRequest } from './client-request.ts';
import { collectOptions, MSG, option, OPTIONS, readOption } from './options.ts';
import { FLAG_BROADCAST } from './reply.ts';
import { MAX_FOREIGN_SERVERS } from './defaults.ts';

/** Which of our two DISCOVERs a reply answered. */
export type ProbeKind = (typeof PROBE_KINDS)[number];

/** One other server that answered on the link (the admin API's shape: contract/system.ts). */
export type { ForeignServer };

/**
 * A probe client's MAC: random, locally administered, unicast (IEEE 802 bit 1 of the
 * first octet set, bit 0 clear), so no real client's lease is touched. The plugin keeps
 * one per run and its own server ignores it (never answering itself, whatever source
 * address the kernel picked); a second appliance on the link answers it and is found.
 */
export function probeMac(random6: Uint8Array): string {
  const b = [...random6.subarray(0, 6)];
  b[0] = ((b[0] ?? 0) & 0xfc) | 0x02;
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** The PXE client the probe pretends to be: BIOS x86 (RFC 4578 arch 0, UNDI 2.1) with a zero GUID. */
const PXE_VENDOR_CLASS = 'PXEClient:Arch:00000:UNDI:002001';

/** A MAC's six bytes from its text form. */
const macBytes = (mac: string) => Uint8Array.from(mac.split(':').map((h) => parseInt(h, 16) & 255));

/** A probe DISCOVER (RFC 2131 4.4.1) from `mac`, broadcast flag set so answers reach a client without an address. */
export function probeDiscover(xid: number, mac: string, kind: ProbeKind): Uint8Array {
  const options = [option(OPTIONS.MESSAGE_TYPE, MSG.DISCOVER), option(OPTIONS.PARAM_LIST, [1, 3, 6, 43, 54, 60, 66, 67])];
  if (kind === 'pxe')
    options.push(
      option(OPTIONS.VENDOR_CLASS, PXE_VENDOR_CLASS),
      option(OPTIONS.CLIENT_ARCH, [0]),
      option(OPTIONS.CLIENT_NDI, { type: 1, major: 2, minor: 1 }),
      [OPTIONS.CLIENT_GUID.code, new Uint8Array(17)],
    );
  return encodeClientRequest({ mac: macBytes(mac), xid, flags: FLAG_BROADCAST, options });
}

/** Printable ASCII only, at most `max` characters: server text goes into events and the UI. */
export function cleanText(s: string, max: number): string {
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, max);
}

/** Longest boot file name kept from a foreign reply. */
const BOOT_FILE_MAX = 128;

/** Read one datagram that arrived on the probe's port 68; null when it is not an answer to our xids. Never throws. */
export function readProbeReply(buf: Uint8Array, from: string, xids: Record<ProbeKind, number>): ForeignServer | null {
  if (buf.length < 8 || buf[0] !== 2) return null;
  const xid = new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getUint32(4);
  const kind: ProbeKind | null = xid === xids.dhcp ? 'dhcp' : xid === xids.pxe ? 'pxe' : null;
  if (!kind) return null;
  const s: ForeignServer = {
    serverId: from,
    from,
    offered: null,
    answered: [kind],
    kind: 'proxy',
    pxe: false,
    bootFile: null,
    malformed: null,
  };
  try {
    const p = decode(buf);
    if (p.yiaddr !== '0.0.0.0') s.offered = p.yiaddr;
    const fileField = cString(p.file);
    const o = collectOptions(p);
    s.serverId = readOption(o, OPTIONS.SERVER_ID) ?? from;
    const file = fileField || (readOption(o, OPTIONS.BOOTFILE) ?? '');
    s.bootFile = file ? cleanText(file, BOOT_FILE_MAX) : null;
    const vendor = readOption(o, OPTIONS.VENDOR_CLASS) ?? '';
    s.pxe = kind === 'pxe' && (s.bootFile !== null || vendor.startsWith('PXEClient') || o.has(OPTIONS.VENDOR_SPECIFIC.code));
  } catch (e) {
    if (!(e instanceof MalformedPacket)) throw e;
    // A reply we cannot read is still a server on the link: name it by its source address.
    s.malformed = cleanText(e.reason, 120);
    if (buf.length >= 20) s.offered = buf[16] || buf[17] || buf[18] || buf[19] ? `${buf[16]}.${buf[17]}.${buf[18]}.${buf[19]}` : null;
  }
  s.kind = s.offered ? 'dhcp' : 'proxy';
  return s;
}

/** The servers one probe heard, merged per (server id, source) and capped. */
export class ProbeLedger {
  private readonly byKey = new Map<string, ForeignServer>();
  /** Distinct servers not kept because the cap was reached. */
  overflow = 0;

  constructor(private readonly cap = MAX_FOREIGN_SERVERS) {}

  /** Add one reply. */
  add(s: ForeignServer): void {
    const key = `${s.serverId}|${s.from}`;
    const had = this.byKey.get(key);
    if (!had) {
      if (this.byKey.size >= this.cap) this.overflow++;
      else this.byKey.set(key, { ...s, answered: [...s.answered] });
      return;
    }
    for (const k of s.answered) if (!had.answered.includes(k)) had.answered.push(k);
    had.offered ??= s.offered;
    had.kind = had.offered ? 'dhcp' : 'proxy';
    had.pxe ||= s.pxe;
    had.bootFile ??= s.bootFile;
    had.malformed ??= s.malformed;
  }

  /** Everything heard. */
  servers(): ForeignServer[] {
    return [...this.byKey.values()];
  }
}

/**
 * Which foreign servers compete with us. Full mode: every server (two address
 * authorities, or a second boot server, on one link). Proxy mode: only those that
 * boot PXE clients; the site's plain DHCP server is expected there.
 */
export function competitors(mode: 'full' | 'proxy', servers: readonly ForeignServer[]): ForeignServer[] {
  return mode === 'full' ? [...servers] : servers.filter((s) => s.pxe);
}

/** One line per server for messages: "10.9.0.2 (proxyDHCP: answers PXE clients without an address)". */
export function describeServer(s: ForeignServer): string {
  const what =
    s.kind === 'proxy'
      ? 'proxyDHCP: answers PXE clients without an address'
      : `offered ${s.offered ?? 'an address'}${s.pxe ? ' and boots PXE clients' : ''}`;
  return `${s.serverId}${s.from !== s.serverId ? ` (from ${s.from})` : ''} ${what}${s.malformed ? `, malformed reply: ${s.malformed}` : ''}`;
}
