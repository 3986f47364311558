/**
 * The one capture reader of the test kit: classic pcap (either byte order, micro- or nanosecond magic) and
 * pcapng (section header byte order; enhanced and simple packet blocks), Ethernet frames with 802.1Q tags,
 * IPv4 + UDP. DHCP and TFTP fixtures both go through it; `index` is the frame's position in the capture,
 * counting every frame, so a fixture can name one as `file.pcap#index`.
 */
import { readFileSync } from 'node:fs';

/** One UDP datagram from a capture. */
export interface UdpDatagram {
  /** Position of its frame in the capture (every frame counts, UDP or not). */
  index: number;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}

/** LINKTYPE_ETHERNET (tcpdump.org link-layer header types). */
const ETHERNET = 1;

function refuse(what: string, why: string): never {
  throw new Error(`${what}: ${why}; the test kit reads Ethernet captures (tcpdump -w on an Ethernet NIC)`);
}

/** Every captured frame, in order; throws on a capture that is not Ethernet. */
export function captureFrames(file: Buffer, what = 'capture'): Buffer[] {
  if (file.length < 24) refuse(what, 'too short for a capture');
  const out: Buffer[] = [];
  if (file.readUInt32LE(0) === 0x0a0d0d0a) {
    // pcapng: blocks of (type, total length, body, total length); the byte order comes from the section header.
    const le = file.readUInt32LE(8) === 0x1a2b3c4d;
    const u32 = (o: number) => (le ? file.readUInt32LE(o) : file.readUInt32BE(o));
    const u16 = (o: number) => (le ? file.readUInt16LE(o) : file.readUInt16BE(o));
    for (let off = 0; off + 12 <= file.length;) {
      const type = u32(off);
      const len = u32(off + 4);
      if (len < 12 || off + len > file.length) break;
      if (type === 1 && u16(off + 8) !== ETHERNET) refuse(what, `interface link type ${u16(off + 8)}`);
      if (type === 6) out.push(file.subarray(off + 28, off + 28 + u32(off + 20)));
      if (type === 3) out.push(file.subarray(off + 12, off + 12 + Math.min(u32(off + 8), len - 16)));
      off += len;
    }
    return out;
  }
  const magic = file.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && file.readUInt32BE(0) !== 0xa1b2c3d4 && file.readUInt32BE(0) !== 0xa1b23c4d) refuse(what, 'not a pcap or pcapng file');
  const u32 = (o: number) => (le ? file.readUInt32LE(o) : file.readUInt32BE(o));
  if (u32(20) !== ETHERNET) refuse(what, `link type ${u32(20)}`);
  for (let off = 24; off + 16 <= file.length;) {
    const caplen = u32(off + 8);
    out.push(file.subarray(off + 16, off + 16 + caplen));
    off += 16 + caplen;
  }
  return out;
}

/** The UDP datagram an Ethernet frame carries (IPv4 only), or null. */
export function udpOfFrame(frame: Buffer, index = 0): UdpDatagram | null {
  if (frame.length < 14) return null;
  let o = 12;
  let type = frame.readUInt16BE(o);
  while (type === 0x8100 && o + 6 <= frame.length) {
    o += 4;
    type = frame.readUInt16BE(o);
  }
  const ip = o + 2;
  if (type !== 0x0800 || frame.length < ip + 20 || frame[ip + 9] !== 17) return null;
  const udp = ip + ((frame[ip] as number) & 15) * 4;
  if (frame.length < udp + 8) return null;
  // The shortest of what the frame holds, the IP length and the UDP length: Ethernet pads short frames.
  const end = Math.min(frame.length, ip + frame.readUInt16BE(ip + 2), udp + frame.readUInt16BE(udp + 4));
  const quad = (p: number) => `${frame[p]}.${frame[p + 1]}.${frame[p + 2]}.${frame[p + 3]}`;
  return {
    index,
    srcIp: quad(ip + 12),
    dstIp: quad(ip + 16),
    srcPort: frame.readUInt16BE(udp),
    dstPort: frame.readUInt16BE(udp + 2),
    payload: frame.subarray(udp + 8, end),
  };
}

/** Every UDP datagram of a capture file, in capture order. */
export function udpDatagrams(file: string): UdpDatagram[] {
  return captureFrames(readFileSync(file), file).flatMap((f, i) => udpOfFrame(f, i) ?? []);
}
