/**
 * What the DHCP warm start relies on to leave V8's optimised code usable for the first real packets
 * (server/dhcp/warm-start.ts): a received datagram reaches the handler in a Buffer of the same hidden class as the
 * warm start's packets (net/pinned-udp.ts `asJsBuffer`), and the warm start's events go to an event log of the
 * real class that keeps its newest events and writes nowhere (EventLog.scratch).
 * Hidden classes are compared with V8's own %HaveSameMap, enabled for this worker only.
 */
import dgram from 'node:dgram';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { afterEach, describe, expect, it } from 'vitest';
import { asJsBuffer, openPinnedUdp, type UdpTransport } from '../../server/net/pinned-udp.ts';
import { openBatchedUdp } from '../../server/net/native-udp.ts';
import { warmMac, warmPacket } from '../../server/dhcp/warm-packets.ts';
import { throwawayEvents } from '../../server/dhcp/warm-start.ts';
import { EventLog } from '../../server/events/event-log.ts';
import { MSG } from '../../server/dhcp/options.ts';

v8.setFlagsFromString('--allow-natives-syntax');
// The only way to reach %HaveSameMap from TypeScript: esbuild would not parse the native syntax.
const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;

const warm = () => warmPacket({ mac: warmMac(7), arch: 0, kind: 'pxe', giaddr: null }, 1, { type: MSG.DISCOVER });
const open: (UdpTransport | dgram.Socket)[] = [];

afterEach(async () => {
  for (const s of open.splice(0)) {
    if ('onMessage' in s) await s.close();
    else s.close();
  }
});

/** Send `bytes` from a throwaway loopback socket to 127.0.0.1:`port`. */
function sendTo(port: number, bytes: Buffer): void {
  const c = dgram.createSocket('udp4');
  open.push(c);
  c.send(bytes, port, '127.0.0.1');
}

describe('hidden classes the warm start shares with real traffic', () => {
  it.each([
    ['openPinnedUdp (Node socket, re-wrapped)', openPinnedUdp],
    ['openBatchedUdp (the batching addon)', openBatchedUdp],
  ])('a datagram received through %s has the class of a warm packet, and the same bytes', async (_, openSocket) => {
    const t = await openSocket({ port: 0, address: '127.0.0.1', ifindex: null, purpose: 'DHCP' });
    open.push(t);
    const got = new Promise<Buffer>((resolve) => t.onMessage((buf) => resolve(buf)));
    const packet = warm();
    sendTo(t.port, packet);
    const buf = await got;
    expect(buf.equals(packet)).toBe(true);
    expect(sameMap(buf, warm())).toBe(true);
  });

  it("without the re-wrap they differ: Node's received Buffer has its own class (why asJsBuffer exists)", async () => {
    const raw = dgram.createSocket('udp4');
    open.push(raw);
    await new Promise<void>((resolve) => raw.bind(0, '127.0.0.1', () => resolve()));
    const got = new Promise<Buffer>((resolve) => raw.once('message', (m) => resolve(m)));
    sendTo(raw.address().port, warm());
    const msg = await got;
    // If a Node upgrade makes these equal, asJsBuffer is no longer needed (and this test says so).
    expect(sameMap(msg, warm())).toBe(false);
    const wrapped = asJsBuffer(msg);
    expect(sameMap(wrapped, warm())).toBe(true);
    expect(wrapped.buffer).toBe(msg.buffer); // a view: nothing copied
    expect(wrapped.byteOffset).toBe(msg.byteOffset);
    expect(wrapped.length).toBe(msg.length);
  });
});

describe("the warm start's event log", () => {
  it('is an EventLog that keeps its newest events, writes nowhere and closes cleanly', async () => {
    const log = throwawayEvents();
    expect(log).toBeInstanceOf(EventLog);
    for (let i = 0; i < 1500; i++) log.emit('dhcp.discover', { mac: null, message: `m${i}`, data: {} as never });
    const kept = await log.since(0, 10_000);
    expect(kept).toHaveLength(1000);
    expect(kept[0]!.seq).toBe(501);
    expect(kept.at(-1)!.message).toBe('m1499');
    await log.flushNow();
    await log.close();
    expect(log.writeErrors).toBe(0);
  });

  it('has the hidden class of a real log on disk, so the handler calls one emit', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cc-warm-shapes-'));
    try {
      const real = await EventLog.open(path.join(dir, 'events.log'), path.join(dir, 'events.db'), 100);
      real.emit('dhcp.discover', { mac: null, message: 'real', data: {} as never });
      const scratch = throwawayEvents();
      scratch.emit('dhcp.discover', { mac: null, message: 'warm', data: {} as never });
      expect(sameMap(real, scratch)).toBe(true);
      await real.close();
      await scratch.close();
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
