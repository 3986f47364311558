/**
 * A rendered file (a GRUB configuration) goes through the same packet path as a file on disk: memoryFile
 * answers readv like readv(2) (views filled in order, short at the end of the data), and memoryVersion keys
 * the cache by content, never like a disk file's version.
 */
import { describe, it, expect } from 'vitest';
import { memoryFile, memoryVersion } from '../../server/tftp/memory-file.ts';
import { PacketRun } from '../../server/tftp/packet-run.ts';
import { decode, Opcode } from '../../server/tftp/codec.ts';

const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 1) & 255);

describe('memoryFile', () => {
  it('fills the views in order from a position and stops at the end of the data', async () => {
    const data = bytes(10);
    const a = Buffer.alloc(3);
    const b = new Uint8Array(new ArrayBuffer(16), 4, 4); // a view into the middle of a larger buffer
    const c = Buffer.alloc(5);
    const r = await memoryFile(data).readv([a, b, c], 2);
    expect(r.bytesRead).toBe(8);
    expect([...a]).toEqual([...data.subarray(2, 5)]);
    expect([...b]).toEqual([...data.subarray(5, 9)]);
    expect([...c]).toEqual([data[9], 0, 0, 0, 0]);
    expect(new Uint8Array(b.buffer, 0, 4)).toEqual(new Uint8Array(4)); // nothing written outside the view
    expect((await memoryFile(data).readv([Buffer.alloc(4)], 10)).bytesRead).toBe(0);
    expect((await memoryFile(data).readv([Buffer.alloc(4)], 99)).bytesRead).toBe(0);
  });

  it('lays out as DATA packets the same way a file on disk does', async () => {
    const data = bytes(1300);
    const run = await new PacketRun(1, 3, 512, data.length).fill(memoryFile(data));
    const got = [1, 2, 3].map((abs) => {
      const p = decode(run.packet(abs));
      if (p.op !== Opcode.DATA) throw new Error('not DATA');
      return Buffer.from(p.data);
    });
    expect(got.map((g) => g.length)).toEqual([512, 512, 276]);
    expect(Buffer.concat(got).equals(Buffer.from(data))).toBe(true);
    await expect(new PacketRun(1, 4, 512, 2000).fill(memoryFile(data))).rejects.toThrow(/shrank/);
  });
});

describe('memoryVersion', () => {
  it('is the same for the same bytes, different for different bytes, and never a disk version', () => {
    const v = memoryVersion(Buffer.from('set timeout=0\n'));
    expect(v).toBe(memoryVersion(new TextEncoder().encode('set timeout=0\n')));
    expect(v).not.toBe(memoryVersion(Buffer.from('set timeout=1\n')));
    expect(v).toMatch(/^mem:[0-9a-f]{64}$/);
  });
});
