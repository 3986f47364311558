/**
 * Probe the link for other DHCP servers: act as two clients on the chosen NIC
 * (a plain one and a PXE one), broadcast a DISCOVER each and collect replies for
 * `timeoutMs`. Used before full mode goes live, periodically while serving, and by
 * the Setup screen. The decisions about what came back are in probe-reply.ts.
 */
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { pinToIfindex } from '../net/pinned-udp.ts';
import { bindError } from '../errors/cc-error.ts';
import type { ProbeResult } from '../../contract/system.ts';
import { ProbeLedger, probeDiscover, probeMac, readProbeReply } from './probe-reply.ts';

export type { ForeignServer } from './probe-reply.ts';

/** What one probe heard (the admin API's shape: contract/system.ts). */
export type { ProbeResult };

/** What to probe: the NIC, how long to listen, and the client MAC to use (default: a fresh random one). */
export interface ProbeOptions {
  iface: string;
  ifindex: number;
  timeoutMs: number;
  mac?: string;
}

/** Probe for foreign DHCP servers on one interface (needs port 68 and root/CAP_NET_BIND_SERVICE). */
export async function probeForeignDhcp(opts: ProbeOptions): Promise<ProbeResult> {
  const sock = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', (e) => reject(bindError(e, `DHCP probe on ${opts.iface}`, 68)));
    sock.bind({ port: 68, address: '0.0.0.0' }, () => resolve());
  });
  const ledger = new ProbeLedger();
  try {
    pinToIfindex(sock, opts.ifindex);
    sock.setBroadcast(true);
    const r = randomBytes(8);
    const xids = { dhcp: r.readUInt32BE(0), pxe: r.readUInt32BE(4) };
    const mac = opts.mac ?? probeMac(randomBytes(6));
    sock.on('message', (msg, rinfo) => {
      const s = readProbeReply(msg, rinfo.address, xids);
      if (s) ledger.add(s);
    });
    sock.on('error', () => undefined);
    const packets = [probeDiscover(xids.dhcp, mac, 'dhcp'), probeDiscover(xids.pxe, mac, 'pxe')];
    const send = () => {
      for (const p of packets) sock.send(p, 67, '255.255.255.255', () => undefined);
    };
    send();
    // One resend halfway, in case the first DISCOVERs met a link still coming up.
    const resend = setTimeout(send, Math.floor(opts.timeoutMs / 2));
    await new Promise((res) => setTimeout(res, opts.timeoutMs));
    clearTimeout(resend);
  } finally {
    await new Promise<void>((res) => sock.close(() => res()));
  }
  return { servers: ledger.servers(), overflow: ledger.overflow };
}
