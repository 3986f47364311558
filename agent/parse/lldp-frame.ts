/**
 * LLDP frames (IEEE 802.1AB-2016 clause 8) as a NIC receives them: the Ethernet header (with any 802.1Q
 * tags), EtherType 0x88cc, then the LLDPDU, a list of TLVs with a 7-bit type and 9-bit length. Pure codec,
 * byte-exact (bytes after the End TLV, i.e. padding or a captured FCS, are kept), and every length is
 * checked against the bytes left before it is read: every frame on the rack NIC may be an attacker's.
 */
import { MalformedPacket } from '../../contract/malformed-packet.ts';

/** IEEE 802.1AB 7.2: the LLDP EtherType. */
export const ETHERTYPE_LLDP = 0x88cc;
/** 802.1Q customer tag and 802.1ad service tag TPIDs, which may precede the EtherType. */
const TPIDS = new Set([0x8100, 0x88a8]);
/** A frame carries at most a service and a customer tag (802.1ad); more is not a frame we accept. */
const MAX_TAGS = 2;
const PROTO = 'lldp';

/** TLV types (802.1AB-2016 Table 8-1). */
export const TLV = {
  end: 0,
  chassisId: 1,
  portId: 2,
  ttl: 3,
  portDescription: 4,
  systemName: 5,
  systemDescription: 6,
  systemCapabilities: 7,
  managementAddress: 8,
  orgSpecific: 127,
} as const;

/** One TLV as it was on the wire. */
export interface LldpTlv {
  type: number;
  value: Uint8Array;
}

/** One VLAN tag in front of the EtherType. */
export interface VlanTag {
  tpid: number;
  tci: number;
}

/** A decoded LLDP frame. */
export interface LldpFrame {
  dst: Uint8Array;
  src: Uint8Array;
  tags: VlanTag[];
  /** TLVs in wire order, the End TLV included when present. */
  tlvs: LldpTlv[];
  /** Bytes after the End TLV (Ethernet padding, a captured FCS) or an odd byte with no room for a TLV header. */
  trailer: Uint8Array;
}

/** Decode one Ethernet frame carrying an LLDPDU; throws MalformedPacket otherwise. */
export function decode(buf: Uint8Array): LldpFrame {
  if (buf.length < 14) throw new MalformedPacket(PROTO, 0, `frame is ${buf.length} bytes, shorter than an Ethernet header`);
  const u16 = (o: number) => (buf[o]! << 8) | buf[o + 1]!;
  const tags: VlanTag[] = [];
  let o = 12;
  while (TPIDS.has(u16(o))) {
    if (tags.length === MAX_TAGS) throw new MalformedPacket(PROTO, o, 'more than two VLAN tags');
    if (buf.length - o < 6) throw new MalformedPacket(PROTO, o, 'VLAN tag cut short');
    tags.push({ tpid: u16(o), tci: u16(o + 2) });
    o += 4;
  }
  if (u16(o) !== ETHERTYPE_LLDP) throw new MalformedPacket(PROTO, o, `EtherType 0x${u16(o).toString(16)} is not LLDP`);
  o += 2;
  const tlvs: LldpTlv[] = [];
  // Bounded by bytes left: each TLV consumes its 2-byte header plus its length.
  while (buf.length - o >= 2) {
    const type = buf[o]! >> 1;
    const len = ((buf[o]! & 1) << 8) | buf[o + 1]!;
    if (len > buf.length - o - 2) throw new MalformedPacket(PROTO, o, `TLV type ${type} claims ${len} bytes, ${buf.length - o - 2} left`);
    tlvs.push({ type, value: buf.slice(o + 2, o + 2 + len) });
    o += 2 + len;
    if (type === TLV.end) break;
  }
  return { dst: buf.slice(0, 6), src: buf.slice(6, 12), tags, tlvs, trailer: buf.slice(o) };
}

/** Bytes `encode` will produce. */
export function encodedLength(f: LldpFrame): number {
  return 14 + f.tags.length * 4 + f.tlvs.reduce((n, t) => n + 2 + t.value.length, 0) + f.trailer.length;
}

/** Encode a frame; throws RangeError for a TLV longer than the 9-bit length field holds. */
export function encode(f: LldpFrame): Uint8Array {
  const out = new Uint8Array(encodedLength(f));
  out.set(f.dst, 0);
  out.set(f.src, 6);
  let o = 12;
  const put16 = (v: number) => {
    out[o++] = v >> 8;
    out[o++] = v & 255;
  };
  for (const t of f.tags) {
    put16(t.tpid);
    put16(t.tci);
  }
  put16(ETHERTYPE_LLDP);
  for (const t of f.tlvs) {
    if (t.type > 127 || t.value.length > 511) throw new RangeError(`TLV type ${t.type} / length ${t.value.length} does not fit the header`);
    put16((t.type << 9) | t.value.length);
    out.set(t.value, o);
    o += t.value.length;
  }
  out.set(f.trailer, o);
  return out;
}
