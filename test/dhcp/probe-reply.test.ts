/**
 * The probe's reading of what other servers send, against hostile servers:
 * malformed offers still count, spoofed identities are kept, huge option lists
 * and control characters cannot bloat or poison the event, the list is bounded.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decode, encode, type DhcpPacket } from '../../server/dhcp/codec.ts';
import { collectOptions, messageType, OPTIONS, readOption } from '../../server/dhcp/options.ts';
import { classifyClient } from '../../server/dhcp/classify.ts';
import {
  ProbeLedger,
  competitors,
  describeServer,
  probeDiscover,
  probeMac,
  readProbeReply,
  type ForeignServer,
} from '../../server/dhcp/probe-reply.ts';
import { MAX_FOREIGN_SERVERS } from '../../server/dhcp/defaults.ts';

const XIDS = { dhcp: 0x11111111, pxe: 0x22222222 };
const MAC = probeMac(Uint8Array.of(0xff, 1, 2, 3, 4, 5));

/** A server's reply to one of our DISCOVERs. */
function offer(xid: number, o: { yiaddr?: string; file?: string; options?: [number, Uint8Array][]; raw?: boolean } = {}): Uint8Array {
  const file = new Uint8Array(128);
  file.set(Buffer.from(o.file ?? '', 'latin1').subarray(0, 128));
  const pkt: DhcpPacket = {
    op: 2,
    htype: 1,
    hlen: 6,
    hops: 0,
    xid,
    secs: 0,
    flags: 0x8000,
    ciaddr: '0.0.0.0',
    yiaddr: o.yiaddr ?? '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: '0.0.0.0',
    chaddr: new Uint8Array(16),
    sname: new Uint8Array(64),
    file,
    cookie: true,
    options: (o.options ?? [[53, Uint8Array.of(2)]]).map(([code, data]) => ({ code, data })),
    end: true,
    trailer: new Uint8Array(0),
  };
  return encode(pkt);
}

describe('probe DISCOVERs', () => {
  it('a plain and a PXE client (60 PXEClient, 93, 94, 97) from a locally administered unicast MAC', () => {
    expect(MAC).toBe('fe:01:02:03:04:05'); // 0xff -> 0xfe: group bit 0 cleared, local bit 1 set
    const plain = decode(probeDiscover(XIDS.dhcp, MAC, 'dhcp'));
    const pxe = decode(probeDiscover(XIDS.pxe, MAC, 'pxe'));
    const po = collectOptions(pxe);
    expect(messageType(collectOptions(plain))).toBe(1);
    expect(classifyClient(collectOptions(plain)).pxe).toBe(false);
    expect(classifyClient(po)).toMatchObject({ pxe: true, arch: 0 });
    expect(readOption(po, OPTIONS.CLIENT_NDI)).toEqual({ type: 1, major: 2, minor: 1 });
    expect(po.get(OPTIONS.CLIENT_GUID.code)?.length).toBe(17);
    expect(pxe.flags & 0x8000).toBe(0x8000);
    expect(probeDiscover(1, MAC, 'pxe').length).toBeGreaterThanOrEqual(300);
  });
});

describe('reading replies', () => {
  it('a full server answers both; a proxyDHCP server only the PXE one, without an address', () => {
    const ledger = new ProbeLedger();
    const sid = (ip: number[]) => [54, Uint8Array.from(ip)] as [number, Uint8Array];
    ledger.add(
      readProbeReply(offer(XIDS.dhcp, { yiaddr: '10.9.0.150', options: [[53, Uint8Array.of(2)], sid([10, 9, 0, 2])] }), '10.9.0.2', XIDS)!,
    );
    ledger.add(
      readProbeReply(offer(XIDS.pxe, { yiaddr: '10.9.0.151', options: [[53, Uint8Array.of(2)], sid([10, 9, 0, 2])] }), '10.9.0.2', XIDS)!,
    );
    ledger.add(
      readProbeReply(
        offer(XIDS.pxe, { file: 'undionly.kpxe', options: [[53, Uint8Array.of(2)], sid([10, 9, 0, 3]), [60, Buffer.from('PXEClient')]] }),
        '10.9.0.3',
        XIDS,
      )!,
    );
    const [full, proxy] = ledger.servers();
    expect(full).toMatchObject({ serverId: '10.9.0.2', kind: 'dhcp', offered: '10.9.0.150', answered: ['dhcp', 'pxe'], pxe: false });
    expect(proxy).toMatchObject({
      serverId: '10.9.0.3',
      kind: 'proxy',
      offered: null,
      answered: ['pxe'],
      pxe: true,
      bootFile: 'undionly.kpxe',
    });
    expect(competitors('full', ledger.servers()).length).toBe(2);
    expect(competitors('proxy', ledger.servers()).map((s) => s.serverId)).toEqual(['10.9.0.3']);
    expect(describeServer(proxy!)).toMatch(/proxyDHCP/);
  });

  it('ignores what is not an answer to us: other xids, requests, runts', () => {
    expect(readProbeReply(offer(0x33333333), '10.9.0.2', XIDS)).toBeNull();
    const req = Buffer.from(offer(XIDS.dhcp));
    req[0] = 1;
    expect(readProbeReply(req, '10.9.0.2', XIDS)).toBeNull();
    expect(readProbeReply(new Uint8Array(7), '10.9.0.2', XIDS)).toBeNull();
  });

  it('a malformed offer is still a server on the link, named by its source', () => {
    const b = Buffer.from(
      offer(XIDS.dhcp, {
        yiaddr: '10.9.0.160',
        options: [
          [53, Uint8Array.of(2)],
          [54, Uint8Array.of(10, 9, 0, 9)],
        ],
      }),
    );
    b[241] = 200; // option 53's length runs past the end
    const s = readProbeReply(b, '10.9.0.9', XIDS)!;
    expect(s).toMatchObject({ serverId: '10.9.0.9', from: '10.9.0.9', offered: '10.9.0.160', kind: 'dhcp' });
    expect(s.malformed).toMatch(/runs past the end/);
    // A bare header with our xid and garbage after it.
    const runt = Buffer.alloc(40);
    runt[0] = 2;
    runt.writeUInt32BE(XIDS.pxe, 4);
    expect(readProbeReply(runt, '10.9.0.10', XIDS)).toMatchObject({ serverId: '10.9.0.10', kind: 'proxy' });
  });

  it('a server claiming our own server id is still foreign', () => {
    const s = readProbeReply(
      offer(XIDS.dhcp, {
        yiaddr: '10.9.0.5',
        options: [
          [53, Uint8Array.of(2)],
          [54, Uint8Array.of(10, 9, 0, 1)],
        ],
      }),
      '10.9.0.66',
      XIDS,
    )!;
    expect(s).toMatchObject({ serverId: '10.9.0.1', from: '10.9.0.66', kind: 'dhcp' });
    expect(describeServer(s)).toContain('(from 10.9.0.66)');
  });

  it('huge option lists and control characters are cleaned and capped', () => {
    const options: [number, Uint8Array][] = [[53, Uint8Array.of(2)]];
    // RFC 3396: a long option split over many parts is concatenated: here a 20 KB boot file name.
    for (let i = 0; i < 80; i++) options.push([67, Buffer.from(`\x1b[31m${'A'.repeat(240)}`, 'latin1')]);
    for (let i = 200; i < 254; i++) options.push([i, new Uint8Array(255)]);
    const s = readProbeReply(offer(XIDS.pxe, { options }), '10.9.0.2', XIDS)!;
    expect(s.bootFile!.length).toBeLessThanOrEqual(128);
    expect(s.bootFile).not.toMatch(/[^\x20-\x7e]/);
    expect(JSON.stringify(s).length).toBeLessThan(1000);
  });

  it('a flood of invented identities keeps at most the cap and counts the rest', () => {
    const ledger = new ProbeLedger();
    for (let i = 0; i < 5000; i++)
      ledger.add(
        readProbeReply(
          offer(XIDS.dhcp, {
            yiaddr: '10.9.0.9',
            options: [
              [53, Uint8Array.of(2)],
              [54, Uint8Array.of(10, 66, i >> 8, i & 255)],
            ],
          }),
          '10.9.0.2',
          XIDS,
        )!,
      );
    expect(ledger.servers()).toHaveLength(MAX_FOREIGN_SERVERS);
    expect(ledger.overflow).toBe(5000 - MAX_FOREIGN_SERVERS);
  });

  it('random bytes with our xid: never throws, always a bounded record', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 1500 }), fc.boolean(), (b, pxe) => {
        b[0] = 2;
        new DataView(b.buffer, b.byteOffset).setUint32(4, pxe ? XIDS.pxe : XIDS.dhcp);
        const s = readProbeReply(b, '10.9.0.2', XIDS) as ForeignServer;
        expect(s).not.toBeNull();
        expect(JSON.stringify(s).length).toBeLessThan(600);
        expect(s.answered).toEqual([pxe ? 'pxe' : 'dhcp']);
      }),
      { numRuns: 5000, seed: 5 },
    );
  });
});
