/**
 * The batched UDP socket (native/udp-batch.c through server/net/native-udp.ts) on real loopback sockets: a burst
 * read in batches with every byte and source intact, a datagram longer than a slot dropped and counted, replies by
 * sendto(2), the errors a caller sees, the bind conflict's fix, and the descriptor released on close. The DHCP
 * suites (test/dhcp/clients.test.ts on this socket, node-sockets.test.ts on Node's) run real clients over both.
 */
import { afterEach, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { openBatchedUdp, udpBatch, UDP_BATCH_SLOT, type BatchedUdp } from '../../server/net/native-udp.ts';
import { DHCP_RECV_BUFFER_BYTES } from '../../server/dhcp/defaults.ts';
import { loadServeConfig } from '../../server/config/load.ts';
import { waitFor } from '../support/wait-for.ts';

const open: BatchedUdp[] = [];
async function batched(port = 0): Promise<BatchedUdp> {
  const t = await openBatchedUdp({
    port,
    address: '127.0.0.1',
    ifindex: null,
    purpose: 'test',
    recvBufferBytes: DHCP_RECV_BUFFER_BYTES,
  });
  open.push(t);
  return t;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

/** Datagram i of a burst: its index in the first two bytes, then a pattern of it, `len` bytes in all. */
function datagram(i: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  for (let k = 0; k < len; k++) b[k] = (i * 7 + k) & 255;
  b.writeUInt16BE(i, 0);
  return b;
}
const lengthOf = (i: number) => 2 + ((i * 97) % 1471); // 2 .. 1472, a DHCP message's range on Ethernet

/** Send `lengths` from another process while this event loop is blocked (as a busy server's is), from one port. */
function sendFromChild(port: number, lengths: number[]): number {
  const r = spawnSync(process.execPath, [
    '-e',
    `const s=require('dgram').createSocket('udp4');const L=${JSON.stringify(lengths)};` +
      `s.bind(0,'127.0.0.1',()=>{let n=0;L.forEach((len,i)=>{const b=Buffer.alloc(len);for(let k=0;k<len;k++)b[k]=(i*7+k)&255;` +
      `if(len>=2)b.writeUInt16BE(i,0);s.send(b,${port},'127.0.0.1',()=>{if(++n===L.length){console.log(s.address().port);s.close()}})})})`,
  ]);
  expect(r.status, String(r.stderr)).toBe(0);
  return Number(String(r.stdout).trim());
}

describe('the batched UDP socket', () => {
  it('the addon is built for this machine and loads (CI builds it in ensure-test-deps)', () => {
    expect(udpBatch.why).toBe('loaded');
    expect(udpBatch.addon).not.toBeNull();
  });

  it('--dhcp-js is the one switch that puts DHCP back on Node sockets', () => {
    const machine = { interfaces: () => ({}), ifindex: () => null, env: {} };
    expect(loadServeConfig(['--dhcp-js'], machine).dhcpJs).toBe(true);
    expect(loadServeConfig([], machine).dhcpJs).toBe(false);
  });

  it('a burst that waited in the kernel is read in batches, every datagram whole and from its sender', async () => {
    const t = await batched();
    const got: { buf: Buffer; from: { address: string; port: number } }[] = [];
    t.onMessage((buf, from) => void got.push({ buf, from }));
    const n = 500;
    const senderPort = sendFromChild(
      t.port,
      Array.from({ length: n }, (_, i) => lengthOf(i)),
    );
    await waitFor('the burst to be read', 10_000, () => got.length >= n);
    expect(got).toHaveLength(n);
    got.forEach((g, i) => {
      // In order, each one its own copy (the slots are reused by later batches).
      expect(g.buf.readUInt16BE(0)).toBe(i);
      expect(g.buf.equals(datagram(i, lengthOf(i)))).toBe(true);
      expect(g.from).toEqual({ address: '127.0.0.1', port: senderPort });
    });
    const s = t.stats();
    expect(s.datagrams).toBe(n);
    // They all waited while this loop was blocked, so they came up many at a time, not one wakeup each.
    expect(s.batches).toBeLessThan(n / 4);
    expect(s.oversize).toBe(0);
  });

  it('a datagram longer than a slot is dropped and counted; the ones around it arrive', async () => {
    const t = await batched();
    const got: Buffer[] = [];
    t.onMessage((buf) => void got.push(buf));
    sendFromChild(t.port, [10, UDP_BATCH_SLOT + 1, 20, 9000, UDP_BATCH_SLOT, 30]);
    await waitFor('the datagrams around the long ones', 10_000, () => got.length >= 4);
    expect(got.map((b) => b.length)).toEqual([10, 20, UDP_BATCH_SLOT, 30]);
    expect(got.map((b) => b.readUInt16BE(0))).toEqual([0, 2, 4, 5]);
    expect(t.stats().oversize).toBe(2);
  });

  it('replies with sendto(2): the peer gets the exact bytes, from a Buffer or a plain Uint8Array', async () => {
    const t = await batched();
    t.onMessage((buf, from) => {
      void t.send(Buffer.concat([Buffer.from('re:'), buf]), from);
      void t.send(new Uint8Array([1, 2, 3]), from);
    });
    const client = dgram.createSocket('udp4');
    const replies: Buffer[] = [];
    client.on('message', (m) => replies.push(m));
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
    try {
      client.send(Buffer.from('hello'), t.port, '127.0.0.1');
      await waitFor('two replies', 5_000, () => replies.length >= 2);
      expect(replies.map((b) => b.toString('latin1'))).toEqual(['re:hello', '\x01\x02\x03']);
    } finally {
      client.close();
    }
  });

  it('a send the kernel refuses rejects with its code: broadcast without SO_BROADCAST, a closed socket', async () => {
    const quiet = await batched();
    await expect(quiet.send(Buffer.from('x'), { address: '255.255.255.255', port: 9 })).rejects.toMatchObject({ code: 'EACCES' });
    await quiet.close();
    await expect(quiet.send(Buffer.from('x'), { address: '127.0.0.1', port: 9 })).rejects.toMatchObject({ code: 'EBADF' });
  });

  it('a port in use is CC_ERR_PORT_IN_USE, with its fix', async () => {
    const t = await batched();
    const e = (await openBatchedUdp({ port: t.port, address: '127.0.0.1', ifindex: null, purpose: 'DHCP' }).catch((x: unknown) => x)) as {
      code: string;
      message: string;
    };
    expect(e.code).toBe('CC_ERR_PORT_IN_USE');
    expect(e.message).toContain(`DHCP on port ${t.port}`);
  });

  it('close releases the descriptor and the port, and a second close does nothing', async () => {
    const fds = () => fs.readdirSync('/proc/self/fd').length;
    const t = await batched();
    const port = t.port;
    const before = fds();
    await t.close();
    await t.close();
    expect(fds()).toBe(before - 1);
    // The port is free again: Node can bind it.
    const s = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(port, '127.0.0.1', () => resolve());
    });
    s.close();
  });
});
