/** The test kit's capture reader: the same frame read from each container it accepts, and what it refuses. */
import { describe, it, expect } from 'vitest';
import { captureFrames, udpOfFrame } from '../support/pcap.ts';

/** An Ethernet + IPv4 + UDP frame 10.0.0.1:68 -> 10.0.0.2:67 carrying `payload`, padded as Ethernet pads. */
function frame(payload: Buffer, vlan = false): Buffer {
  const eth = Buffer.from('ffffffffffff5254000000010800', 'hex');
  const tagged = vlan ? Buffer.concat([eth.subarray(0, 12), Buffer.from('8100000a', 'hex'), eth.subarray(12)]) : eth;
  const ip = Buffer.from('450000000000000040110000' + '0a000001' + '0a000002', 'hex');
  ip.writeUInt16BE(20 + 8 + payload.length, 2);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(68, 0);
  udp.writeUInt16BE(67, 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([tagged, ip, udp, payload, Buffer.alloc(20)]);
}

function classic(frames: Buffer[], le: boolean, linktype = 1): Buffer {
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    if (le) b.writeUInt32LE(v);
    else b.writeUInt32BE(v);
    return b;
  };
  const head = Buffer.concat([
    u32(0xa1b2c3d4),
    Buffer.from(le ? '02000400' : '00020004', 'hex'),
    u32(0),
    u32(0),
    u32(65535),
    u32(linktype),
  ]);
  return Buffer.concat([head, ...frames.flatMap((f) => [u32(0), u32(0), u32(f.length), u32(f.length), f])]);
}

function pcapng(frames: Buffer[], linktype = 1): Buffer {
  const block = (type: number, body: Buffer) => {
    const pad = Buffer.alloc((4 - (body.length % 4)) % 4);
    const len = 12 + body.length + pad.length;
    const h = Buffer.alloc(8);
    h.writeUInt32LE(type, 0);
    h.writeUInt32LE(len, 4);
    const t = Buffer.alloc(4);
    t.writeUInt32LE(len);
    return Buffer.concat([h, body, pad, t]);
  };
  const shb = Buffer.from('4d3c2b1a01000000ffffffffffffffff', 'hex');
  const idb = Buffer.alloc(8);
  idb.writeUInt16LE(linktype, 0);
  idb.writeUInt32LE(65535, 4);
  const epbs = frames.map((f) => {
    const h = Buffer.alloc(20);
    h.writeUInt32LE(f.length, 12);
    h.writeUInt32LE(f.length, 16);
    return block(6, Buffer.concat([h, f]));
  });
  return Buffer.concat([block(0x0a0d0d0a, shb), block(1, idb), ...epbs]);
}

describe('capture reader', () => {
  const hello = Buffer.from('hello dhcp');
  const frames = [frame(hello), Buffer.from('not ip at all, fourteen+ bytes'), frame(hello, true)];

  for (const [name, file] of [
    ['classic little-endian', classic(frames, true)],
    ['classic big-endian', classic(frames, false)],
    ['pcapng', pcapng(frames)],
  ] as const) {
    it(`${name}: every frame in order; UDP of the IPv4 ones (802.1Q too) without the Ethernet padding`, () => {
      const got = captureFrames(file);
      expect(got).toHaveLength(3);
      const udp = got.map((f, i) => udpOfFrame(f, i));
      expect(udp[1]).toBeNull();
      for (const i of [0, 2]) {
        expect(udp[i]).toEqual({ index: i, srcIp: '10.0.0.1', dstIp: '10.0.0.2', srcPort: 68, dstPort: 67, payload: hello });
      }
    });
  }

  it('refuses what is not an Ethernet capture, saying what it reads', () => {
    expect(() => captureFrames(classic(frames, true, 113), 'x.pcap')).toThrow(/x\.pcap: link type 113; .*Ethernet/);
    expect(() => captureFrames(pcapng(frames, 101), 'y.pcapng')).toThrow(/y\.pcapng: interface link type 101/);
    expect(() => captureFrames(Buffer.alloc(40, 7), 'z')).toThrow(/z: not a pcap or pcapng file/);
    expect(() => captureFrames(Buffer.alloc(3))).toThrow(/too short/);
  });
});
