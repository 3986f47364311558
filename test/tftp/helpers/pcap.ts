/**
 * Minimal capture reader for the codec fixtures: classic pcap and pcapng,
 * Ethernet (with 802.1Q) + IPv4 + UDP. Returns UDP payloads that belong to
 * TFTP: requests to port 69 and every datagram of the flows they open.
 */
import { readFileSync } from 'node:fs';

/** One UDP datagram from a capture. */
export interface UdpFrame {
  index: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  payload: Buffer;
}

function frames(file: Buffer): Buffer[] {
  const out: Buffer[] = [];
  const magic = file.readUInt32LE(0);
  if (magic === 0x0a0d0d0a) {
    // pcapng: blocks of (type, total length, body, total length); byte order from the SHB.
    const le = file.readUInt32LE(8) === 0x1a2b3c4d;
    const u32 = (o: number) => (le ? file.readUInt32LE(o) : file.readUInt32BE(o));
    let off = 0;
    while (off + 12 <= file.length) {
      const type = u32(off);
      const len = u32(off + 4);
      if (len < 12 || off + len > file.length) break;
      if (type === 6) {
        const caplen = u32(off + 20);
        out.push(file.subarray(off + 28, off + 28 + caplen));
      } else if (type === 3) {
        const caplen = Math.min(u32(off + 8), len - 16);
        out.push(file.subarray(off + 12, off + 12 + caplen));
      }
      off += len;
    }
    return out;
  }
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const u32 = (o: number) => (le ? file.readUInt32LE(o) : file.readUInt32BE(o));
  let off = 24;
  while (off + 16 <= file.length) {
    const caplen = u32(off + 8);
    out.push(file.subarray(off + 16, off + 16 + caplen));
    off += 16 + caplen;
  }
  return out;
}

function udp(frame: Buffer, index: number): UdpFrame | null {
  let off = 12;
  let ethType = frame.readUInt16BE(off);
  while (ethType === 0x8100 && off + 6 <= frame.length) {
    off += 4;
    ethType = frame.readUInt16BE(off);
  }
  off += 2;
  if (ethType !== 0x0800 || frame[off + 9] !== 17) return null;
  const ihl = (frame[off]! & 15) * 4;
  const ip = (o: number) => [...frame.subarray(off + o, off + o + 4)].join('.');
  const u = off + ihl;
  const ulen = frame.readUInt16BE(u + 4);
  return {
    index,
    src: ip(12),
    dst: ip(16),
    sport: frame.readUInt16BE(u),
    dport: frame.readUInt16BE(u + 2),
    payload: frame.subarray(u + 8, Math.min(frame.length, u + ulen)),
  };
}

/** TFTP datagrams of a capture file, in capture order. */
export function tftpDatagrams(file: string): UdpFrame[] {
  const clients = new Set<string>();
  const out: UdpFrame[] = [];
  frames(readFileSync(file)).forEach((f, i) => {
    const d = udp(f, i);
    if (!d) return;
    const a = `${d.src}:${d.sport}`;
    const b = `${d.dst}:${d.dport}`;
    if (d.dport === 69) clients.add(a);
    if (d.dport === 69 || d.sport === 69 || clients.has(a) || clients.has(b)) out.push(d);
  });
  return out;
}
