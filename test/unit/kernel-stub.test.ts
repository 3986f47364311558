/**
 * The pure parts of the zstd kernel stub's recipe (build/microkernel/kernel-stub.mjs): reading a bzImage's setup
 * header and payload, the four link-time addresses taken from the kernel's section headers, and the version
 * string's parts. The whole recipe runs in the microkernel build; test/e2e/microkernel-image.test.ts checks what
 * it made, and test/e2e/boot.test.ts boots it.
 */
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';

const stub = (await import(pathToFileURL(path.join(REPO_ROOT, 'build/microkernel/kernel-stub.mjs')).href)) as {
  readSetupHeader: (b: Buffer) => { protocol: number; pmOffset: number; kernelVersion: string; payloadLength: number };
  payloadOf: (b: Buffer) => { kind: string; payload: Buffer };
  voffsetMap: (elf: Buffer) => string;
  splitKernelVersion: (s: string) => { release: string; user: string; host: string; version: string };
};

const DEBIAN = '6.1.0-57-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 (2026-11-26)';

/** A bzImage-shaped buffer: setup header, version string, and a payload of `magic` (boot protocol 2.15). */
function fakeBzImage(magic: Buffer, protocol = 0x20f): Buffer {
  const b = Buffer.alloc(8192);
  b[0x1f1] = 3; // setup sectors: protected-mode code at (3 + 1) * 512 = 2048
  b.write('HdrS', 0x202, 'latin1');
  b.writeUInt16LE(protocol, 0x206);
  b.writeUInt16LE(0x400 - 0x200, 0x20e);
  b.write(`${DEBIAN}\0`, 0x400, 'latin1');
  b.writeUInt32LE(100, 0x248);
  b.writeUInt32LE(magic.length + 4, 0x24c);
  magic.copy(b, 2048 + 100);
  return b;
}

/** An ELF64 file with only section headers: name -> [address, size]. */
function fakeElf(secs: Record<string, [bigint, number]>): Buffer {
  const names = ['', ...Object.keys(secs), '.shstrtab'];
  const strtab = Buffer.from(names.map((n) => `${n}\0`).join(''), 'latin1');
  const shoff = 64 + strtab.length + ((8 - ((64 + strtab.length) % 8)) % 8);
  const b = Buffer.alloc(shoff + names.length * 64);
  b.writeUInt32BE(0x7f454c46, 0);
  b[4] = 2;
  b[5] = 1;
  b.writeUInt16LE(62, 0x12);
  b.writeBigUInt64LE(BigInt(shoff), 0x28);
  b.writeUInt16LE(64, 0x3a);
  b.writeUInt16LE(names.length, 0x3c);
  b.writeUInt16LE(names.length - 1, 0x3e);
  strtab.copy(b, 64);
  let nameOff = 0;
  names.forEach((n, i) => {
    const o = shoff + i * 64;
    b.writeUInt32LE(nameOff, o);
    nameOff += n.length + 1;
    if (n === '.shstrtab') {
      b.writeUInt32LE(3, o + 4);
      b.writeBigUInt64LE(64n, o + 0x18);
      b.writeBigUInt64LE(BigInt(strtab.length), o + 0x20);
    } else if (n) {
      const [addr, size] = secs[n]!;
      b.writeUInt32LE(n === '.bss' || n === '.brk' ? 8 : 1, o + 4);
      b.writeBigUInt64LE(addr, o + 0x10);
      b.writeBigUInt64LE(BigInt(size), o + 0x20);
    }
  });
  return b;
}

describe('setup header and payload', () => {
  it('reads the fields and names the payload’s compressor by its magic', () => {
    const xz = fakeBzImage(Buffer.from('fd377a585a00', 'hex'));
    expect(stub.readSetupHeader(xz)).toMatchObject({ protocol: 0x20f, pmOffset: 2048, kernelVersion: DEBIAN, payloadLength: 10 });
    expect(stub.payloadOf(xz).kind).toBe('xz');
    expect(stub.payloadOf(fakeBzImage(Buffer.from('28b52ffd04', 'hex'))).kind).toBe('zstd');
    expect(stub.payloadOf(fakeBzImage(Buffer.from('02214c18', 'hex'))).kind).toBe('other');
  });

  it('refuses what is not a bzImage, and a protocol without payload fields', () => {
    expect(() => stub.readSetupHeader(Buffer.alloc(8192))).toThrow(/not an x86 bzImage/);
    expect(() => stub.readSetupHeader(Buffer.alloc(16))).toThrow(/not an x86 bzImage/);
    expect(() => stub.payloadOf(fakeBzImage(Buffer.from('fd377a585a00', 'hex'), 0x207))).toThrow(/2\.08 or later/);
  });
});

describe('the link-time addresses (voffset.h) from the kernel’s sections', () => {
  // Debian 6.1.0-57-amd64's sections; the -dbg package's System.map has exactly these four symbols.
  const secs: Record<string, [bigint, number]> = {
    '.text': [0xffffffff81000000n, 0xe01d32],
    '.rodata': [0xffffffff82000000n, 0x45e616],
    '.bss': [0xffffffff83310000n, 0x10f0000],
    '.brk': [0xffffffff84400000n, 0x30000],
  };

  it('_text, __start_rodata, __bss_start, and _end as the page after .brk, in System.map’s format', () => {
    expect(stub.voffsetMap(fakeElf(secs)).split('\n')).toEqual([
      'ffffffff81000000 T _text',
      'ffffffff82000000 D __start_rodata',
      'ffffffff83310000 B __bss_start',
      'ffffffff84430000 B _end',
      '',
    ]);
    // .brk ending inside a page rounds up to the next one.
    const odd = stub.voffsetMap(fakeElf({ ...secs, '.brk': [0xffffffff84400000n, 0x30001] }));
    expect(odd).toContain('ffffffff84431000 B _end');
  });

  it('a kernel without one of the sections is refused with the fix', () => {
    const { ['.brk']: _gone, ...noBrk } = secs;
    expect(() => stub.voffsetMap(fakeElf(noBrk))).toThrow(/no \.brk section[\s\S]*fix: .*--kernel-stub debian/);
    expect(() => stub.voffsetMap(Buffer.from('not an elf at all, but long enough to be read as one '.repeat(2)))).toThrow(/not an ELF64/);
  });
});

describe('the version string', () => {
  it('splits Debian’s into release, builder, host and version', () => {
    expect(stub.splitKernelVersion(DEBIAN)).toEqual({
      release: '6.1.0-57-amd64',
      user: 'debian-kernel',
      host: 'lists.debian.org',
      version: '#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 (2026-11-26)',
    });
  });

  it('refuses a string of another shape (the stub would carry a wrong one)', () => {
    expect(() => stub.splitKernelVersion('6.1.0-57-amd64 #1 SMP')).toThrow(/unexpected kernel version string/);
    expect(() => stub.splitKernelVersion('')).toThrow(/unexpected/);
  });
});
