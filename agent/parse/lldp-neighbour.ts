/**
 * From LLDP frames to the neighbour the agent reports per NIC (the same `LldpNeighbour` the lldpctl parser
 * gives): the typed view of an LLDPDU (802.1AB-2016 8.5) and the choice among captured frames. Pure: the
 * capture files and the current time come in as arguments (the microkernel's lldp-capture writes the files).
 * Strings from the wire are cut to printable ASCII and 255 characters before they go anywhere.
 */
import { MalformedPacket } from '../../contract/malformed-packet.ts';
import type { LldpNeighbour } from './lldp.ts';
import { decode as decodeFrame, TLV, type LldpFrame } from './lldp-frame.ts';
import { decode as decodePcap, LINKTYPE_ETHERNET, recordTime } from './pcap.ts';

/** The fields of an LLDPDU the agent uses. */
export interface LldpInfo {
  chassisSubtype: number;
  chassisId: string;
  portSubtype: number;
  portId: string;
  /** Seconds the information stays valid; 0 = the neighbour is shutting LLDP down (802.1AB 9.2.7.7.3). */
  ttl: number;
  portDescription?: string;
  systemName?: string;
  systemDescription?: string;
  managementAddresses: string[];
  /** 802.1Q Port VLAN ID (802.1AB Annex D.2.1); absent or 0 when the port does not say. */
  pvid?: number;
}

/** 802.1 organisationally specific TLVs (802.1AB-2016 Annex D). */
const OUI_8021 = '0080c2';
const SUBTYPE_PVID = 1;
/** Chassis ID subtype 4 / port ID subtype 3: a MAC address; subtype 5 / 4: an IANA-family network address. */
const CHASSIS_MAC = 4;
const CHASSIS_NET = 5;
const PORT_MAC = 3;
const PORT_NET = 4;

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const mac = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');

/**
 * Printable ASCII only (anything else becomes '?'), trimmed, at most 255 characters (the TLV maximum).
 * Trailing NULs go first: some switches send C strings with their terminator.
 */
export function printable(b: Uint8Array): string {
  let end = Math.min(b.length, 255);
  while (end > 0 && b[end - 1] === 0) end--;
  let s = '';
  for (const c of b.subarray(0, end)) s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '?';
  return s.trim();
}

/** An address of an IANA address family (1 IPv4, 2 IPv6, 6 IEEE 802 MAC), or hex. */
function netAddress(family: number, a: Uint8Array): string {
  if (family === 1 && a.length === 4) return [...a].join('.');
  if (family === 6 && a.length === 6) return mac(a);
  if (family === 2 && a.length === 16) return [...Array(8).keys()].map((i) => ((a[2 * i]! << 8) | a[2 * i + 1]!).toString(16)).join(':');
  return hex(a);
}

/** An ID TLV value (subtype byte + id) as text: MACs as aa:bb:..., addresses dotted, the rest printable. */
function idText(v: Uint8Array, macSubtype: number, netSubtype: number): string {
  const id = v.subarray(1);
  if (v[0] === macSubtype && id.length === 6) return mac(id);
  if (v[0] === netSubtype && id.length >= 1) return netAddress(id[0]!, id.subarray(1));
  return printable(id);
}

/**
 * The typed view of a frame. 802.1AB-2016 9.2.7.7.1: an LLDPDU whose first three TLVs are not Chassis ID,
 * Port ID and TTL (with sane lengths) is discarded; so is one here (MalformedPacket).
 */
export function lldpInfo(f: LldpFrame): LldpInfo {
  const [c, p, t] = f.tlvs;
  if (!c || c.type !== TLV.chassisId || c.value.length < 2 || c.value.length > 256)
    throw new MalformedPacket('lldp', 0, 'first TLV is not a Chassis ID');
  if (!p || p.type !== TLV.portId || p.value.length < 2 || p.value.length > 256)
    throw new MalformedPacket('lldp', 0, 'second TLV is not a Port ID');
  if (!t || t.type !== TLV.ttl || t.value.length < 2) throw new MalformedPacket('lldp', 0, 'third TLV is not a TTL');
  const info: LldpInfo = {
    chassisSubtype: c.value[0]!,
    chassisId: idText(c.value, CHASSIS_MAC, CHASSIS_NET),
    portSubtype: p.value[0]!,
    portId: idText(p.value, PORT_MAC, PORT_NET),
    ttl: (t.value[0]! << 8) | t.value[1]!,
    managementAddresses: [],
  };
  for (const x of f.tlvs.slice(3)) {
    const v = x.value;
    if (x.type === TLV.portDescription) info.portDescription ??= printable(v);
    else if (x.type === TLV.systemName) info.systemName ??= printable(v);
    else if (x.type === TLV.systemDescription) info.systemDescription ??= printable(v);
    else if (x.type === TLV.managementAddress && v.length >= 2) {
      // 8.5.9: address string length (subtype + address, 2..32), then the subtype and the address.
      const n = v[0]!;
      if (n >= 2 && n <= 32 && n + 1 <= v.length) info.managementAddresses.push(netAddress(v[1]!, v.subarray(2, 1 + n)));
    } else if (x.type === TLV.orgSpecific && v.length >= 6 && hex(v.subarray(0, 3)) === OUI_8021 && v[3] === SUBTYPE_PVID) {
      info.pvid ??= (v[4]! << 8) | v[5]!;
    }
  }
  return info;
}

/** The agent's neighbour record for one LLDPDU. */
export function neighbourOf(i: LldpInfo): LldpNeighbour {
  return {
    switch_name: i.systemName || undefined,
    switch_id: i.chassisId || undefined,
    port_id: i.portId || undefined,
    port_descr: i.portDescription || undefined,
    vlan: i.pvid || undefined,
    mgmt_ip: i.managementAddresses[0],
  };
}

/** Linux interface names: IFNAMSIZ-1 characters of the kernel's own charset. */
const NIC_NAME = /^[A-Za-z0-9_.-]{1,15}$/;

/**
 * Neighbours per NIC from lldp-capture's files (`NIC.pcap0`, `NIC.pcap1`, ... -> bytes). Per NIC the most
 * recently received valid LLDPDU wins; a TTL of 0 (shutdown) or an expired TTL at `nowS` means no neighbour.
 * Malformed files and frames are counted, never fatal.
 */
export function neighboursFromCaptures(
  files: ReadonlyMap<string, Uint8Array>,
  nowS: number,
): { neighbours: Record<string, LldpNeighbour>; dropped: number; errors: string[] } {
  const latest = new Map<string, { at: number; info: LldpInfo }>();
  const errors: string[] = [];
  let dropped = 0;
  for (const [name, bytes] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const nic = name.replace(/\.pcap\d*$/, '');
    if (!NIC_NAME.test(nic) || nic === name) {
      errors.push(`${printable(Buffer.from(name))}: not a capture file name`);
      continue;
    }
    let pcap;
    try {
      pcap = decodePcap(bytes);
    } catch (e) {
      errors.push(`${name}: ${(e as Error).message}`);
      continue;
    }
    if (pcap.header.linktype !== LINKTYPE_ETHERNET) {
      errors.push(`${name}: link type ${pcap.header.linktype} is not Ethernet`);
      continue;
    }
    for (const r of pcap.records) {
      let info: LldpInfo;
      try {
        info = lldpInfo(decodeFrame(r.data));
      } catch {
        dropped++;
        continue;
      }
      const at = recordTime(pcap.header, r);
      const prev = latest.get(nic);
      if (!prev || at >= prev.at) latest.set(nic, { at, info });
    }
  }
  const neighbours: Record<string, LldpNeighbour> = {};
  for (const [nic, { at, info }] of [...latest].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (info.ttl === 0 || at + info.ttl < nowS) continue;
    neighbours[nic] = neighbourOf(info);
  }
  return { neighbours, dropped, errors };
}
