/**
 * A hostile DHCP server for probe tests, run inside a test namespace:
 * `ip netns exec NS node bin/run-ts.mjs test/dhcp/harness/rogue-server.ts MODE`.
 * It answers every DISCOVER it hears (by broadcast to port 68, echoing the xid)
 * with what MODE says: `malformed` (an option running past the end), `spoof`
 * (option 54 = the appliance's own address), `huge` (a 20 KB concatenated boot
 * file name full of escape codes, 50 junk options), `identities` (200 replies
 * with invented server ids), `all` (every one of those). Prints "ready".
 */
import dgram from 'node:dgram';

const mode = process.argv[2] ?? 'all';
const spoofId = process.argv[3] ?? '10.9.0.1';
const sock = dgram.createSocket({ type: 'udp4', reuseAddr: true });

/** A BOOTREPLY with our chosen options (raw TLV bytes after the cookie). */
function reply(xid: Buffer, chaddr: Buffer, yiaddr: number[], options: Buffer, end = true): Buffer {
  const head = Buffer.alloc(240);
  head[0] = 2;
  head[1] = 1;
  head[2] = 6;
  xid.copy(head, 4);
  head.writeUInt16BE(0x8000, 10);
  Buffer.from(yiaddr).copy(head, 16);
  chaddr.copy(head, 28, 0, 16);
  head.writeUInt32BE(0x63825363, 236);
  return Buffer.concat([head, options, Buffer.from(end ? [255] : [])]);
}

const tlv = (code: number, data: Buffer | number[]) => Buffer.concat([Buffer.from([code, data.length]), Buffer.from(data)]);
const OFFER = tlv(53, [2]);

function answers(xid: Buffer, chaddr: Buffer): Buffer[] {
  const out: Buffer[] = [];
  if (mode === 'malformed' || mode === 'all') {
    // Option 54's length runs 200 bytes past the end of the message.
    out.push(reply(xid, chaddr, [10, 9, 0, 201], Buffer.concat([OFFER, Buffer.from([54, 200, 10, 9])]), false));
  }
  if (mode === 'spoof' || mode === 'all')
    out.push(reply(xid, chaddr, [10, 9, 0, 202], Buffer.concat([OFFER, tlv(54, spoofId.split('.').map(Number))])));
  if (mode === 'huge' || mode === 'all') {
    const parts = [OFFER, tlv(54, [10, 9, 0, 3])];
    for (let i = 0; i < 60; i++) parts.push(tlv(67, Buffer.from(`\x1b[2J\x07${'X'.repeat(240)}`, 'latin1')));
    for (let c = 200; c < 250; c++) parts.push(tlv(c, Buffer.alloc(255, 0x41)));
    out.push(reply(xid, chaddr, [10, 9, 0, 203], Buffer.concat(parts)));
  }
  if (mode === 'identities' || mode === 'all')
    for (let i = 0; i < 200; i++) out.push(reply(xid, chaddr, [10, 9, 0, 204], Buffer.concat([OFFER, tlv(54, [10, 66, i, 1])])));
  return out;
}

sock.on('message', (msg) => {
  if (msg.length < 240 || msg[0] !== 1) return;
  const xid = msg.subarray(4, 8);
  const chaddr = msg.subarray(28, 44);
  for (const a of answers(xid, chaddr))
    sock.send(a, 68, '255.255.255.255', (err) => {
      if (err) process.stdout.write(`send failed: ${err.message}\n`);
    });
});
sock.bind(67, '0.0.0.0', () => {
  sock.setBroadcast(true);
  process.stdout.write('ready\n');
});
