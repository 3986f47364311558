/**
 * The rack side of the SIGKILL test, run inside the client namespace:
 * `ip netns exec NS node bin/run-ts.mjs test/store/burst-client.ts JSON`.
 * Registers machines over the node plane and leases addresses by DHCP (a real
 * DISCOVER/OFFER/REQUEST/ACK over the veth), printing one JSON line per
 * acknowledgement: {t:'reg', node_id, mac, serial} and {t:'lease', mac, ip}.
 * Runs until killed.
 */
import fs from 'node:fs';
import { openPinnedUdp, type UdpTransport } from '../../server/net/pinned-udp.ts';
import { decode, type DhcpPacket } from '../../server/dhcp/codec.ts';
import { OPT, MSG } from '../../server/dhcp/options.ts';
import { clientPacket, ip4 } from '../dhcp/helpers.ts';

interface Args {
  nodeUrl: string;
  iface: string;
  registrars: number;
  dhcpChains: number;
}
const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const out = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
const hex = (n: number) => n.toString(16).padStart(2, '0');

async function registrar(w: number): Promise<void> {
  for (let i = 0; ; i++) {
    const mac = `02:cc:${hex(w)}:00:${hex(i >> 8)}:${hex(i & 255)}`;
    const serial = `KILL-${w}-${i}`;
    try {
      const boot = await (await fetch(`${args.nodeUrl}/boot?mac=${mac}&serial=${serial}`)).text();
      const token = /crashcart\.token=(\S+)/.exec(boot)?.[1];
      const node = Number(/crashcart\.node=(\d+)/.exec(boot)?.[1]);
      const r = await fetch(`${args.nodeUrl}/api/v1/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          hw_id: mac,
          node_id: node,
          macs: [mac],
          serial,
          token,
          facts: { serialnumber: serial, n: i, blob: 'x'.repeat(2000) },
        }),
      });
      if (r.status === 200) out({ t: 'reg', node_id: ((await r.json()) as { node_id: number }).node_id, mac, serial });
    } catch {
      await new Promise((r) => setTimeout(r, 200)); // the appliance died under us: that one was never acknowledged
    }
  }
}

/** DHCP: one socket on :68 pinned to the NIC; replies are matched to chains by xid. */
const waiting = new Map<number, (p: DhcpPacket) => void>();
function reply(sock: UdpTransport, xid: number, pkt: Uint8Array, want: number): Promise<DhcpPacket | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      waiting.delete(xid);
      resolve(null);
    }, 3000);
    waiting.set(xid, (p) => {
      const type = p.options.find((o) => o.code === OPT.MESSAGE_TYPE)?.data[0];
      if (type !== want && type !== MSG.NAK) return;
      clearTimeout(timer);
      waiting.delete(xid);
      resolve(type === want ? p : null);
    });
    void sock.send(pkt, { address: '255.255.255.255', port: 67 }).catch(() => undefined);
  });
}

async function chain(sock: UdpTransport, c: number): Promise<void> {
  for (let i = 0; ; i++) {
    const mac = `02:dd:${hex(c)}:00:${hex(i >> 8)}:${hex(i & 255)}`;
    const xid = ((c << 24) | (i & 0xffffff)) >>> 0;
    const base = { mac, xid, flags: 0x8000 };
    const offer = await reply(sock, xid, clientPacket({ ...base, options: [[OPT.MESSAGE_TYPE, [MSG.DISCOVER]]] }), MSG.OFFER);
    if (!offer) continue;
    const sid = offer.options.find((o) => o.code === OPT.SERVER_ID)!.data;
    const ack = await reply(
      sock,
      xid,
      clientPacket({
        ...base,
        options: [
          [OPT.MESSAGE_TYPE, [MSG.REQUEST]],
          [OPT.REQUESTED_IP, ip4(offer.yiaddr)],
          [OPT.SERVER_ID, Array.from(sid)],
        ],
      }),
      MSG.ACK,
    );
    if (ack) out({ t: 'lease', mac, ip: ack.yiaddr });
  }
}

const ifindex = Number(fs.readFileSync(`/sys/class/net/${args.iface}/ifindex`, 'utf8'));
const sock = await openPinnedUdp({ port: 68, address: '0.0.0.0', ifindex, broadcast: true, reuseAddr: true, purpose: 'DHCP client' });
sock.onMessage((buf) => {
  try {
    const p = decode(buf);
    if (p.op === 2) waiting.get(p.xid)?.(p);
  } catch {
    /* not ours */
  }
});
out({ t: 'ready' });
for (let c = 0; c < args.dhcpChains; c++) void chain(sock, c);
for (let w = 0; w < args.registrars; w++) void registrar(w);
