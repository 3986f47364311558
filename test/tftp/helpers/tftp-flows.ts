/**
 * The TFTP part of a capture: requests to port 69 and every datagram of the flows they open (RFC 1350 4: the
 * server answers from a fresh port). The capture itself is read by the test kit's one reader.
 */
import { udpDatagrams, type UdpDatagram } from '../../support/pcap.ts';

/** TFTP datagrams of a capture file, in capture order. */
export function tftpDatagrams(file: string): UdpDatagram[] {
  const clients = new Set<string>();
  return udpDatagrams(file).filter((d) => {
    const a = `${d.srcIp}:${d.srcPort}`;
    const b = `${d.dstIp}:${d.dstPort}`;
    if (d.dstPort === 69) clients.add(a);
    return d.dstPort === 69 || d.srcPort === 69 || clients.has(a) || clients.has(b);
  });
}
