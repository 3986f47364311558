/**
 * The pcap savefile format (what `tcpdump -w` writes; the "libpcap file format" of the tcpdump project,
 * IETF draft-ietf-opsawg-pcap): a 24-byte global header, then records of a 16-byte header and the captured
 * bytes. Pure codec: bytes in, a typed value out and back, byte-exact (either byte order, micro- or
 * nanosecond stamps, and an incomplete last record, which a reader racing tcpdump's writes sees, kept raw).
 */
import { MalformedPacket } from '../../contract/malformed-packet.ts';

/** Magic for microsecond stamps, as the writer's byte order stores it; 0xa1b23c4d means nanoseconds. */
const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
const GLOBAL_LEN = 24;
const RECORD_HEADER_LEN = 16;
/** LINKTYPE_ETHERNET (tcpdump.org link-layer header types): what tcpdump -i ethX records. */
export const LINKTYPE_ETHERNET = 1;
/** Records larger than this are refused: tcpdump never writes more than its snapshot length (at most 256 KiB). */
const MAX_RECORD = 262144;

/** The global header. */
export interface PcapHeader {
  littleEndian: boolean;
  nanoseconds: boolean;
  versionMajor: number;
  versionMinor: number;
  thiszone: number;
  sigfigs: number;
  snaplen: number;
  linktype: number;
}

/** One captured packet. `seconds`/`fraction` as stored (fraction is µs or ns per the header). */
export interface PcapRecord {
  seconds: number;
  fraction: number;
  /** Length on the wire; the captured `data` may be shorter (snaplen). */
  origLen: number;
  data: Uint8Array;
}

/** A decoded savefile. `partial` holds the bytes of an incomplete last record (usually empty). */
export interface Pcap {
  header: PcapHeader;
  records: PcapRecord[];
  partial: Uint8Array;
}

const PROTO = 'pcap';

/** Decode a savefile; throws MalformedPacket when the global header is not pcap or a record lies about its size. */
export function decode(buf: Uint8Array): Pcap {
  if (buf.length < GLOBAL_LEN) throw new MalformedPacket(PROTO, 0, `file is ${buf.length} bytes, shorter than the 24-byte header`);
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const be = v.getUint32(0, false);
  const le = v.getUint32(0, true);
  const littleEndian = le === MAGIC_US || le === MAGIC_NS;
  if (!littleEndian && be !== MAGIC_US && be !== MAGIC_NS) throw new MalformedPacket(PROTO, 0, 'not a pcap file (bad magic)');
  const magic = littleEndian ? le : be;
  const u32 = (o: number) => v.getUint32(o, littleEndian);
  const header: PcapHeader = {
    littleEndian,
    nanoseconds: magic === MAGIC_NS,
    versionMajor: v.getUint16(4, littleEndian),
    versionMinor: v.getUint16(6, littleEndian),
    thiszone: v.getInt32(8, littleEndian),
    sigfigs: u32(12),
    snaplen: u32(16),
    linktype: u32(20),
  };
  const records: PcapRecord[] = [];
  let o = GLOBAL_LEN;
  // Bounded by bytes left: every pass consumes at least the 16-byte record header.
  while (buf.length - o >= RECORD_HEADER_LEN) {
    const incl = u32(o + 8);
    if (incl > MAX_RECORD) throw new MalformedPacket(PROTO, o + 8, `record claims ${incl} captured bytes`);
    if (buf.length - o - RECORD_HEADER_LEN < incl) break; // the writer has not finished this record yet
    records.push({
      seconds: u32(o),
      fraction: u32(o + 4),
      origLen: u32(o + 12),
      data: buf.slice(o + RECORD_HEADER_LEN, o + RECORD_HEADER_LEN + incl),
    });
    o += RECORD_HEADER_LEN + incl;
  }
  return { header, records, partial: buf.slice(o) };
}

/** Bytes `encode` will produce. */
export function encodedLength(p: Pcap): number {
  return GLOBAL_LEN + p.records.reduce((n, r) => n + RECORD_HEADER_LEN + r.data.length, 0) + p.partial.length;
}

/** Encode a savefile in the header's byte order. */
export function encode(p: Pcap): Uint8Array {
  const out = new Uint8Array(encodedLength(p));
  const v = new DataView(out.buffer);
  const h = p.header;
  const le = h.littleEndian;
  v.setUint32(0, h.nanoseconds ? MAGIC_NS : MAGIC_US, le);
  v.setUint16(4, h.versionMajor, le);
  v.setUint16(6, h.versionMinor, le);
  v.setInt32(8, h.thiszone, le);
  v.setUint32(12, h.sigfigs, le);
  v.setUint32(16, h.snaplen, le);
  v.setUint32(20, h.linktype, le);
  let o = GLOBAL_LEN;
  for (const r of p.records) {
    v.setUint32(o, r.seconds, le);
    v.setUint32(o + 4, r.fraction, le);
    v.setUint32(o + 8, r.data.length, le);
    v.setUint32(o + 12, r.origLen, le);
    out.set(r.data, o + RECORD_HEADER_LEN);
    o += RECORD_HEADER_LEN + r.data.length;
  }
  out.set(p.partial, o);
  return out;
}

/** A record's capture time in seconds since the epoch. */
export function recordTime(h: PcapHeader, r: PcapRecord): number {
  return r.seconds + r.fraction / (h.nanoseconds ? 1e9 : 1e6);
}
