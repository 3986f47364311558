#!/usr/bin/env node
// One guest TCP connection <-> 127.0.0.1:PORT. QEMU's user network runs this once per connection the guest
// opens to a `guestfwd=...-cmd:` address, with the connection on stdin/stdout: it lets a guest on an isolated
// (restrict=on) network reach one test server on the host and nothing else. Usage: tcp-relay.mjs PORT
import net from 'node:net';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  process.stderr.write('usage: tcp-relay.mjs PORT (the test server on 127.0.0.1)\n');
  process.exit(2);
}
const s = net.connect(port, '127.0.0.1');
process.stdin.pipe(s);
s.pipe(process.stdout);
s.on('error', () => process.exit(1));
s.on('close', () => process.exit(0));
process.stdin.on('end', () => s.end());
