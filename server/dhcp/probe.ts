/**
 * Probe the link for other DHCP servers: act as a DHCP client on the chosen
 * NIC, broadcast a DISCOVER and collect OFFERs for `timeoutMs`. Used before
 * full mode goes live, periodically while serving, and by the Setup screen.
 */
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { pinToIfindex } from '../net/pinned-udp.ts';
import { bindError } from '../errors/cc-error.ts';
import { decode, encode, MIN_REPLY_LEN, encodedLength, type DhcpPacket } from './codec.ts';
import { collectOptions, ipOption, messageType, MSG, OPT } from './options.ts';
import { FLAG_BROADCAST } from './reply.ts';

/** One foreign server that answered. */
export interface ForeignServer {
  /** Option 54 of its OFFER (else the source address). */
  serverId: string;
  /** The address it offered (yiaddr), or null. */
  offered: string | null;
  /** Source address of the OFFER datagram. */
  from: string;
}

/** The probe's DISCOVER (RFC 2131 4.4.1), broadcast flag set so answers reach a client without an address. */
export function probeDiscover(xid: number, mac: Uint8Array): Uint8Array {
  const chaddr = new Uint8Array(16);
  chaddr.set(mac.subarray(0, 6));
  const pkt: DhcpPacket = {
    op: 1,
    htype: 1,
    hlen: 6,
    hops: 0,
    xid,
    secs: 0,
    flags: FLAG_BROADCAST,
    ciaddr: '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: '0.0.0.0',
    chaddr,
    sname: new Uint8Array(64),
    file: new Uint8Array(128),
    cookie: true,
    options: [
      { code: OPT.MESSAGE_TYPE, data: Uint8Array.of(MSG.DISCOVER) },
      { code: OPT.PARAM_LIST, data: Uint8Array.of(1, 3, 6, 54) },
    ],
    end: true,
    trailer: new Uint8Array(0),
  };
  pkt.trailer = new Uint8Array(Math.max(0, MIN_REPLY_LEN - encodedLength(pkt)));
  return encode(pkt);
}

/** Probe for foreign DHCP servers on one interface (needs port 68 and root/CAP_NET_BIND_SERVICE). */
export async function probeForeignDhcp(opts: { iface: string; ifindex: number; timeoutMs: number }): Promise<{ servers: ForeignServer[] }> {
  const sock = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', (e) => reject(bindError(e, `DHCP probe on ${opts.iface}`, 68)));
    sock.bind({ port: 68, address: '0.0.0.0' }, () => resolve());
  });
  const servers = new Map<string, ForeignServer>();
  try {
    pinToIfindex(sock, opts.ifindex);
    sock.setBroadcast(true);
    const xid = randomBytes(4).readUInt32BE(0);
    // A locally administered unicast MAC, so no real client's lease is touched.
    const mac = randomBytes(6);
    mac[0] = ((mac[0] as number) & 0xfc) | 0x02;
    sock.on('message', (msg, rinfo) => {
      try {
        const p = decode(msg);
        if (p.op !== 2 || p.xid !== xid) return;
        const o = collectOptions(p);
        if (messageType(o) !== MSG.OFFER) return;
        const from = rinfo.address;
        const serverId = ipOption(o, OPT.SERVER_ID) ?? from;
        if (!servers.has(serverId)) servers.set(serverId, { serverId, offered: p.yiaddr !== '0.0.0.0' ? p.yiaddr : null, from });
      } catch {
        /* a malformed answer is not a server we can name; keep listening */
      }
    });
    sock.on('error', () => undefined);
    const pkt = probeDiscover(xid, mac);
    const send = () => sock.send(pkt, 67, '255.255.255.255', () => undefined);
    send();
    // One resend halfway, in case the first DISCOVER met a link still coming up.
    const resend = setTimeout(send, Math.floor(opts.timeoutMs / 2));
    await new Promise((r) => setTimeout(r, opts.timeoutMs));
    clearTimeout(resend);
  } finally {
    await new Promise<void>((r) => sock.close(() => r()));
  }
  return { servers: [...servers.values()] };
}
