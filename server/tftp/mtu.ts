/** The largest blksize a NIC carries without IP fragmentation (firmware often cannot reassemble). */
import { readFileSync } from 'node:fs';
import { BLKSIZE_MAX } from './options.ts';

/** IPv4 header (no options) + UDP header + TFTP DATA header. */
const HEADERS = 20 + 8 + 4;
/** Loopback's MTU: what an unpinned (test) server assumes. */
export const LOOPBACK_MTU = 65536;

/** blksize cap for an MTU: MTU - 20 - 8 - 4, within RFC 2348's 8..65464. */
export function blksizeForMtu(mtu: number): number {
  return Math.max(8, Math.min(BLKSIZE_MAX, mtu - HEADERS));
}

/** Read /sys/class/net/IFACE/mtu; null iface or unreadable file means loopback. */
export function mtuOf(iface: string | null): number {
  if (iface === null || !/^[\w.:-]{1,15}$/.test(iface)) return LOOPBACK_MTU;
  try {
    const v = Number(readFileSync(`/sys/class/net/${iface}/mtu`, 'utf8').trim());
    return Number.isInteger(v) && v >= 68 ? v : LOOPBACK_MTU;
  } catch {
    return LOOPBACK_MTU;
  }
}
