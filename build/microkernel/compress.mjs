// Initramfs compressors the Debian 6.1 kernels unpack (CONFIG_RD_GZIP/XZ/LZ4/ZSTD=y on amd64 and arm64),
// each with the flags that keep the output byte-for-byte reproducible (one thread, no names or
// timestamps) and within what the kernel's decoder accepts. docs/performance.md has the boot-time table
// these were chosen by; `zstd` is the default.
import { spawnSync } from 'node:child_process';

/** name -> { cmd, args, fast (dev-loop args), pkg, magic (first bytes of the output) }. */
export const COMPRESSORS = Object.freeze({
  // zstd -19: the kernel's streaming decoder (lib/decompress_unzstd.c) takes any window up to 2^31; -19
  // uses an 8 MiB window, so unpacking needs little memory on a small node.
  zstd: { cmd: 'zstd', args: ['-19', '-T1', '-q', '-c', '--no-progress'], fast: ['-3', '-T1', '-q', '-c'], pkg: 'zstd', magic: '28b52ffd' },
  // --ultra -22: the level the kernel's own build uses for CONFIG_INITRAMFS_COMPRESSION_ZSTD; 128 MiB window.
  'zstd-22': {
    cmd: 'zstd',
    args: ['--ultra', '-22', '-T1', '-q', '-c', '--no-progress'],
    fast: ['-3', '-T1', '-q', '-c'],
    pkg: 'zstd',
    magic: '28b52ffd',
  },
  // The kernel's xz decoder checks CRC32 or nothing, never CRC64/SHA-256 (lib/xz/xz_dec_stream.c).
  xz: {
    cmd: 'xz',
    args: ['--check=crc32', '-9', '-T1', '-c'],
    fast: ['--check=crc32', '-1', '-T1', '-c'],
    pkg: 'xz-utils',
    magic: 'fd377a58',
  },
  // The kernel reads only lz4's legacy frame format (-l), as its own build writes it (scripts/Makefile.lib).
  lz4: { cmd: 'lz4', args: ['-l', '-12', '-c'], fast: ['-l', '-1', '-c'], pkg: 'lz4', magic: '02214c18' },
  // -n: no file name and no timestamp in the header.
  gzip: { cmd: 'gzip', args: ['-n', '-9', '-c'], fast: ['-n', '-1', '-c'], pkg: 'gzip', magic: '1f8b' },
});

/** Compress `data` with compressor `name`; throws with the fix on failure. */
export function compress(name, data, fast = false) {
  const c = COMPRESSORS[name];
  if (!c) throw new Error(`unknown compressor ${name}\n  fix: use one of ${Object.keys(COMPRESSORS).join(', ')}`);
  const r = spawnSync(c.cmd, fast ? c.fast : c.args, { input: data, maxBuffer: 1 << 30 });
  if (r.error) throw new Error(`cannot run ${c.cmd}: ${r.error.message}\n  fix: apt-get install ${c.pkg}`);
  if (r.status !== 0) throw new Error(`${c.cmd} failed: ${r.stderr}\n  fix: check free disk space and memory`);
  return r.stdout;
}

/** The compressor that wrote `buf`, by its magic bytes (null when unknown). */
export function compressorOf(buf) {
  const head = buf.subarray(0, 4).toString('hex');
  if (head.startsWith('1f8b')) return 'gzip';
  for (const [name, c] of Object.entries(COMPRESSORS)) if (head === c.magic) return name;
  return null;
}
