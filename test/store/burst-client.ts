/**
 * The rack side of the SIGKILL test, run inside the client namespace:
 * `ip netns exec NS node bin/run-ts.mjs test/store/burst-client.ts JSON`.
 * Registers machines over the node plane, each from the address it leased by DHCP (a real
 * DISCOVER/OFFER/REQUEST/ACK over the veth), and leases more addresses, printing one JSON line per
 * acknowledgement: {t:'reg', node_id, mac, serial} and {t:'lease', mac, ip}.
 * Runs until killed.
 */
import fs from 'node:fs';
import http from 'node:http';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { openPinnedUdp, type UdpTransport } from '../../server/net/pinned-udp.ts';
import { decode, type DhcpPacket } from '../../server/dhcp/codec.ts';
import { OPT, MSG } from '../../server/dhcp/options.ts';
import { clientPacket, ip4 } from '../dhcp/helpers.ts';

interface Args {
  nodeUrl: string;
  iface: string;
  registrars: number;
  dhcpChains: number;
  /** Prefix length of the rack network (leased addresses are added to the NIC with it). */
  prefix: number;
}
const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const out = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
const run = promisify(execFile);
const hex = (n: number) => n.toString(16).padStart(2, '0');

/** A request from `localAddress` (the machine's leased address), as a real machine's agent makes it. */
function request(url: string, localAddress: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      url,
      {
        method: data ? 'POST' : 'GET',
        localAddress,
        headers: data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/**
 * One machine after another: lease an address by DHCP, take it on the NIC, fetch /boot and register from it
 * (the enrolment token is only good from an address leased to the node, docs/identity.md).
 */
async function registrar(sock: UdpTransport, w: number): Promise<void> {
  for (let i = 0; ; i++) {
    const mac = `02:cc:${hex(w)}:00:${hex(i >> 8)}:${hex(i & 255)}`;
    const serial = `KILL-${w}-${i}`;
    const ip = await lease(sock, mac, (((0x80 | w) << 24) | (i & 0xffffff)) >>> 0);
    if (!ip) continue;
    try {
      await run('ip', ['addr', 'add', `${ip}/${args.prefix}`, 'dev', args.iface]);
      const boot = await request(`${args.nodeUrl}/boot?mac=${mac}&serial=${serial}`, ip);
      const token = /crashcart\.token=(\S+)/.exec(boot.text)?.[1];
      const node = Number(/crashcart\.node=(\d+)/.exec(boot.text)?.[1]);
      const r = await request(`${args.nodeUrl}/api/v1/register`, ip, {
        hw_id: mac,
        node_id: node,
        macs: [mac],
        serial,
        token,
        facts: { serialnumber: serial, n: i, blob: 'x'.repeat(2000) },
      });
      if (r.status === 200) out({ t: 'reg', node_id: (JSON.parse(r.text) as { node_id: number }).node_id, mac, serial });
      else if (i < 2) process.stderr.write(`register answered ${r.status}: ${r.text}\n`);
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

/** DISCOVER, OFFER, REQUEST, ACK for `mac`; the leased address, printed as a lease line, or null. */
async function lease(sock: UdpTransport, mac: string, xid: number): Promise<string | null> {
  const base = { mac, xid, flags: 0x8000 };
  const offer = await reply(sock, xid, clientPacket({ ...base, options: [[OPT.MESSAGE_TYPE, [MSG.DISCOVER]]] }), MSG.OFFER);
  if (!offer) return null;
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
  if (!ack) return null;
  out({ t: 'lease', mac, ip: ack.yiaddr });
  return ack.yiaddr;
}

/** DHCP chains: lease after lease, nothing else. */
async function chain(sock: UdpTransport, c: number): Promise<void> {
  for (let i = 0; ; i++) await lease(sock, `02:dd:${hex(c)}:00:${hex(i >> 8)}:${hex(i & 255)}`, ((c << 24) | (i & 0xffffff)) >>> 0);
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
for (let w = 0; w < args.registrars; w++) void registrar(sock, w);
