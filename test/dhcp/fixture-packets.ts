/** Read DHCP payloads out of the captured fixtures (classic pcap, Ethernet; hex dumps). */
import fs from 'node:fs';
import path from 'node:path';

/** Folder of the copied captures. */
export const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/dhcp');

/** One UDP datagram from a capture. */
export interface Datagram {
  file: string;
  index: number;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}

function udpFromEthernet(frame: Buffer): Omit<Datagram, 'file' | 'index'> | null {
  let o = 12;
  let type = frame.readUInt16BE(o);
  if (type === 0x8100) {
    o += 4;
    type = frame.readUInt16BE(o);
  }
  if (type !== 0x0800) return null;
  const ip = o + 2;
  const ihl = ((frame[ip] as number) & 15) * 4;
  if (frame[ip + 9] !== 17) return null;
  const totalLen = frame.readUInt16BE(ip + 2);
  const udp = ip + ihl;
  const udpLen = frame.readUInt16BE(udp + 4);
  const end = Math.min(frame.length, ip + totalLen, udp + udpLen);
  const q = (p: number) => `${frame[p]}.${frame[p + 1]}.${frame[p + 2]}.${frame[p + 3]}`;
  return {
    srcIp: q(ip + 12),
    dstIp: q(ip + 16),
    srcPort: frame.readUInt16BE(udp),
    dstPort: frame.readUInt16BE(udp + 2),
    payload: frame.subarray(udp + 8, end),
  };
}

/** Every UDP datagram to or from ports 67/68/4011 in a classic little-endian pcap. */
export function dhcpFromPcap(file: string): Datagram[] {
  const d = fs.readFileSync(path.join(FIXTURES, file));
  if (d.readUInt32LE(0) !== 0xa1b2c3d4 || d.readUInt32LE(20) !== 1) throw new Error(`${file}: not an Ethernet pcap`);
  const out: Datagram[] = [];
  let o = 24;
  let i = 0;
  while (o + 16 <= d.length) {
    const incl = d.readUInt32LE(o + 8);
    const frame = d.subarray(o + 16, o + 16 + incl);
    o += 16 + incl;
    const u = udpFromEthernet(frame);
    const ports = [67, 68, 4011];
    if (u && (ports.includes(u.srcPort) || ports.includes(u.dstPort))) out.push({ file, index: i, ...u });
    i++;
  }
  return out;
}

/** The DHCP payload of a hex fixture: a whole Ethernet frame or the payload alone. */
export function dhcpFromHex(file: string): Buffer {
  const b = Buffer.from(fs.readFileSync(path.join(FIXTURES, file), 'utf8').replace(/[^0-9a-fA-F]/g, ''), 'hex');
  if (b.length > 14 && b.readUInt16BE(12) === 0x0800) {
    const u = udpFromEthernet(b);
    if (u) return u.payload;
  }
  return b;
}

/** Every fixture file name by kind. */
export function fixtureFiles(): { pcaps: string[]; hexes: string[] } {
  const all = fs.readdirSync(FIXTURES);
  return { pcaps: all.filter((f) => f.endsWith('.pcap')), hexes: all.filter((f) => f.endsWith('.hex')) };
}
