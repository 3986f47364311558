/**
 * A rogue DHCP server for the microkernel hook tests, run inside a test namespace:
 *   node bin/run-ts.mjs test/security/microkernel-rogue-dhcp.ts CONFIG_JSON
 * It answers DISCOVER with OFFER and REQUEST with ACK (RFC 2131 3.1) carrying a valid address and hostile
 * text in every string the client copies: the BOOTP sname/file fields and options 12, 15, 17, 56, 66, 67
 * (bytes given in hex, so NULs and newlines survive). With `http_port` it also records every HTTP request
 * (the QEMU test's stand-in appliance and the target of the payloads' wget). One JSON line per event on stdout.
 */
import dgram from 'node:dgram';
import http from 'node:http';
import { decode, encode, encodedLength, fixedField, type DhcpOption, type DhcpPacket } from '../../server/dhcp/codec.ts';

/** What the server offers; every string field is hex. */
interface RogueConfig {
  yiaddr: string;
  server: string;
  mask: string;
  broadcast: string;
  lease_s: number;
  sname_hex: string;
  file_hex: string;
  /** Option code -> data (hex). */
  options_hex: Record<string, string>;
  http_port?: number;
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as RogueConfig;
const say = (o: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(o)}\n`);
const ip4 = (s: string): Uint8Array => Uint8Array.from(s.split('.').map(Number));
const u32 = (n: number): Uint8Array => Uint8Array.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));

/** A fixed BOOTP field from raw bytes (NUL-padded; a NUL inside stays where the test put it). */
function field(bytes: Uint8Array, size: number): Uint8Array {
  const f = fixedField('', size);
  f.set(bytes.subarray(0, size));
  return f;
}

const sock = dgram.createSocket({ type: 'udp4', reuseAddr: true });
sock.on('message', (msg) => {
  let req;
  try {
    req = decode(msg);
  } catch {
    return;
  }
  const type = req.options.find((o) => o.code === 53)?.data[0];
  // RFC 2131 3.1: DISCOVER (1) -> OFFER (2), REQUEST (3) -> ACK (5).
  const reply = type === 1 ? 2 : type === 3 ? 5 : undefined;
  if (reply === undefined || req.op !== 1) return;
  const options: DhcpOption[] = [
    { code: 53, data: Uint8Array.of(reply) },
    { code: 54, data: ip4(cfg.server) },
    { code: 51, data: u32(cfg.lease_s) },
    { code: 1, data: ip4(cfg.mask) },
    { code: 3, data: ip4(cfg.server) },
    { code: 6, data: ip4(cfg.server) },
    { code: 28, data: ip4(cfg.broadcast) },
    ...Object.entries(cfg.options_hex).map(([code, h]) => ({ code: Number(code), data: hex(h) })),
  ];
  const pkt: DhcpPacket = {
    op: 2,
    htype: req.htype,
    hlen: req.hlen,
    hops: 0,
    xid: req.xid,
    secs: 0,
    flags: req.flags,
    ciaddr: '0.0.0.0',
    yiaddr: cfg.yiaddr,
    siaddr: cfg.server,
    giaddr: '0.0.0.0',
    chaddr: req.chaddr,
    sname: field(hex(cfg.sname_hex), 64),
    file: field(hex(cfg.file_hex), 128),
    cookie: true,
    options,
    end: true,
    trailer: new Uint8Array(0),
  };
  // Pad after END to the BOOTP minimum of 300 bytes (RFC 1542 2.1), no more: busybox udhcpc ignores replies
  // longer than its buffer (576-byte DHCP minimum plus 80 bytes of slack).
  pkt.trailer = new Uint8Array(Math.max(0, 300 - encodedLength(pkt)));
  const out = encode(pkt);
  sock.send(out, 68, '255.255.255.255', (e) => say({ event: 'reply', type: reply === 2 ? 'OFFER' : 'ACK', error: e?.message }));
});
sock.bind(67, () => {
  sock.setBroadcast(true);
  if (cfg.http_port === undefined) return say({ event: 'ready' });
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      say({ event: 'http', method: req.method, path: req.url, from: req.socket.remoteAddress });
      // Not an appliance: the agent's register gets a 503 and backs off; the test only needs to see it arrive.
      res.writeHead(503, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(cfg.http_port, cfg.server, () => say({ event: 'ready' }));
});
