/**
 * A rack machine forging PXE clients: broadcasts COUNT DHCPDISCOVERs (vendor class PXEClient) with
 * random MACs, collects the OFFERs for a few seconds, prints `{"sent":N,"offers":M}`. Run inside a
 * network namespace: `ip netns exec NS node bin/run-ts.mjs test/security/helpers/pxe-flood.ts COUNT [IFACE] [plain]`.
 * With `plain` the clients are not boot clients (no options 60 and 93, as an OS's DHCP client) and their MACs
 * start with 06, so a test can tell their events from everyone else's.
 */
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { clientPacket } from '../../dhcp/helpers.ts';
import fs from 'node:fs';
import { decode } from '../../../server/dhcp/codec.ts';
import { pinToIfindex } from '../../../server/net/pinned-udp.ts';

const count = Number(process.argv[2] ?? 10);
const iface = process.argv[3] ?? 'e0';
const plain = process.argv[4] === 'plain';
const sock = dgram.createSocket({ type: 'udp4', reuseAddr: true });
await new Promise<void>((r) => sock.bind(68, '0.0.0.0', () => r()));
// Out of this NIC, as a PXE ROM sends (a limited broadcast needs no route then).
pinToIfindex(sock, Number(fs.readFileSync(`/sys/class/net/${iface}/ifindex`, 'utf8')));
sock.setBroadcast(true);
const xids = new Set<number>();
let offers = 0;
sock.on('message', (msg) => {
  try {
    const p = decode(msg);
    if (p.op === 2 && xids.has(p.xid)) offers++;
  } catch {
    /* not ours */
  }
});
for (let i = 0; i < count; i++) {
  const mac = [plain ? '06' : '02', ...[...randomBytes(5)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
  const xid = randomBytes(4).readUInt32BE(0);
  xids.add(xid);
  const pkt = clientPacket({
    mac,
    xid,
    flags: 0x8000,
    options: plain
      ? [[53, [1]]]
      : [
          [53, [1]],
          [60, 'PXEClient:Arch:00000:UNDI:002001'],
          [93, [0, 0]],
        ],
  });
  await new Promise<void>((resolve, reject) => sock.send(pkt, 67, '255.255.255.255', (e) => (e ? reject(e) : resolve())));
}
await new Promise((r) => setTimeout(r, 3000));
process.stdout.write(`${JSON.stringify({ sent: count, offers })}\n`);
sock.close();
