/** Read DHCP payloads out of the captured fixtures (captures through the test kit's reader; hex dumps). */
import fs from 'node:fs';
import path from 'node:path';
import { udpDatagrams, udpOfFrame, type UdpDatagram } from '../support/pcap.ts';

/** Folder of the copied captures. */
export const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/dhcp');

/** One UDP datagram from a DHCP fixture capture. */
export interface Datagram extends UdpDatagram {
  file: string;
}

/** Every UDP datagram to or from ports 67/68/4011 in a capture (test/support/pcap.ts reads it). */
export function dhcpFromPcap(file: string): Datagram[] {
  const ports = [67, 68, 4011];
  return udpDatagrams(path.join(FIXTURES, file))
    .filter((u) => ports.includes(u.srcPort) || ports.includes(u.dstPort))
    .map((u) => ({ file, ...u }));
}

/** The DHCP payload of a hex fixture: a whole Ethernet frame or the payload alone. */
export function dhcpFromHex(file: string): Buffer {
  const b = Buffer.from(fs.readFileSync(path.join(FIXTURES, file), 'utf8').replace(/[^0-9a-fA-F]/g, ''), 'hex');
  if (b.length > 14 && b.readUInt16BE(12) === 0x0800) {
    const u = udpOfFrame(b);
    if (u) return u.payload;
  }
  return b;
}

/** Every fixture file name by kind. */
export function fixtureFiles(): { pcaps: string[]; hexes: string[] } {
  const all = fs.readdirSync(FIXTURES);
  return { pcaps: all.filter((f) => f.endsWith('.pcap')), hexes: all.filter((f) => f.endsWith('.hex')) };
}
