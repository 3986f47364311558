/**
 * Microkernel decompressor benchmark: the built initramfs (the same cpio) compressed with every compressor
 * the kernel unpacks, each booted in QEMU on TCG (this machine's emulated CPU) straight from -kernel/-initrd
 * with no NIC, timed from QEMU start ("power-on") to the console line of our /init. An uncompressed cpio is
 * the reference that shows what unpacking costs. Writes bench/microkernel/RESULTS.md (amd64) or
 * RESULTS-arm64.md.
 *
 *   flock /tmp/cc-build.lock node bin/run-ts.mjs bench/microkernel/run.ts --prepare [--arch arm64]   # compress (minutes)
 *   flock /tmp/cc-qemu.lock node bin/run-ts.mjs bench/microkernel/run.ts [--arch amd64|arm64] [--reps N]
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ipxeKernelOf, REPO_ROOT, microkernelDirFor, type MicrokernelArch } from '../../server/boot/microkernel-assets.ts';
import { startDirect, stopDirect, waitForLine, type GuestArch } from '../../test/e2e/harness/direct-boot.ts';
import { median } from '../percentile.ts';

interface Compressor {
  cmd: string;
  args: string[];
  magic: string;
}
const { COMPRESSORS, compressorOf } = (await import(pathToFileURL(path.join(REPO_ROOT, 'build/microkernel/compress.mjs')).href)) as {
  COMPRESSORS: Record<string, Compressor>;
  compressorOf: (b: Buffer) => string | null;
};

const argv = process.argv.slice(2);
const opt = (k: string) => (argv.includes(k) ? argv[argv.indexOf(k) + 1] : undefined);
const arch = (opt('--arch') ?? 'amd64') as MicrokernelArch & GuestArch;
const reps = Number(opt('--reps') ?? 3);
/** Only compress the variants (the heavy CPU part, run under the build lock), no boots. */
const prepareOnly = argv.includes('--prepare');
const MiB = 1048576;
const VARIANTS = ['none', 'lz4', 'gzip', 'zstd', 'zstd-22', 'xz'];
/** Generous: xz on an emulated arm64 CPU is slow, and other jobs share the machine. */
const BOOT_TIMEOUT_MS = 240_000;

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function main(): Promise<void> {
  const dir = microkernelDirFor(arch, path.join(REPO_ROOT, 'build/out'));
  const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as {
    version: string;
    compression: string;
    kernel: { release: string };
    files: Record<string, { bytes: number }>;
  };
  const kernel = path.join(dir, ipxeKernelOf(dir));
  const shipped = readFileSync(path.join(dir, 'initrd.img'));
  const shippedWith = compressorOf(shipped);
  if (!shippedWith) throw new Error(`${dir}/initrd.img: unknown compression`);
  const cpio = execFileSync(COMPRESSORS[shippedWith]!.cmd, ['-dc'], { input: shipped, maxBuffer: 1 << 30 });
  const cache = path.join(REPO_ROOT, 'build/out/cache/bench-microkernel');
  mkdirSync(cache, { recursive: true });
  const tag = `${arch}-${sha(cpio).slice(0, 12)}`;

  // Every variant of the same cpio (cached: compressing 150 MiB at the highest levels takes minutes).
  const files = new Map<string, { file: string; bytes: number; compressS: number | null }>();
  for (const v of VARIANTS) {
    const file = path.join(cache, `${tag}.${v}`);
    let compressS: number | null = null;
    if (!existsSync(file)) {
      const t0 = process.hrtime.bigint();
      const out = v === 'none' ? cpio : execFileSync(COMPRESSORS[v]!.cmd, COMPRESSORS[v]!.args, { input: cpio, maxBuffer: 1 << 30 });
      compressS = Number(process.hrtime.bigint() - t0) / 1e9;
      writeFileSync(file, out);
      process.stdout.write(`compressed ${v}: ${(out.length / MiB).toFixed(1)} MiB in ${compressS.toFixed(0)} s\n`);
    }
    files.set(v, { file, bytes: readFileSync(file).length, compressS });
  }
  if (prepareOnly) return;

  const tmp = mkdtempSync(path.join(os.tmpdir(), 'cc-mk-bench-'));
  const times = new Map<string, { hostS: number[]; guestS: number[] }>(VARIANTS.map((v) => [v, { hostS: [], guestS: [] }]));
  try {
    for (let r = 0; r < reps; r++) {
      // Rotate the order each round so a noisy neighbour does not always hit the same variant.
      for (const v of [...VARIANTS.slice(r % VARIANTS.length), ...VARIANTS.slice(0, r % VARIANTS.length)]) {
        const g = startDirect({
          arch,
          kernel,
          initrd: files.get(v)!.file,
          append: 'ipv6.disable=1 quiet',
          memoryMb: 1024,
          cpus: 2,
          serialFile: path.join(tmp, `${v}-${r}.log`),
        });
        try {
          const line = await waitForLine(g, /crashcart-init: started \(uptime ([\d.]+)s/, BOOT_TIMEOUT_MS);
          const t = times.get(v)!;
          t.hostS.push((line.at - g.poweredOnAt) / 1000);
          t.guestS.push(Number(/uptime ([\d.]+)s/.exec(line.text)![1]));
          process.stdout.write(
            `round ${r + 1}/${reps} ${v}: /init at ${t.hostS.at(-1)!.toFixed(1)} s (guest uptime ${t.guestS.at(-1)} s)\n`,
          );
        } finally {
          await stopDirect(g);
        }
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }

  const base = median(times.get('none')!.hostS);
  const kernelBytes = manifest.files[ipxeKernelOf(dir)]!.bytes;
  const rows = VARIANTS.map((v) => {
    const f = files.get(v)!;
    const t = times.get(v)!;
    const flags =
      v === 'none'
        ? '(uncompressed cpio)'
        : `${COMPRESSORS[v]!.cmd} ${COMPRESSORS[v]!.args.filter((a) => a !== '-c' && a !== '-q').join(' ')}`;
    return `| ${v}${v === shippedWith ? ' (shipped)' : ''} | \`${flags}\` | ${(f.bytes / MiB).toFixed(1)} | ${((f.bytes + kernelBytes) / MiB).toFixed(1)} | ${median(t.hostS).toFixed(1)} (${Math.min(...t.hostS).toFixed(1)}-${Math.max(...t.hostS).toFixed(1)}) | ${median(t.guestS).toFixed(1)} | ${v === 'none' ? '-' : `+${(median(t.hostS) - base).toFixed(1)}`} |`;
  });
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const md = `# Microkernel decompressor benchmark (${arch})

Generated by \`node bin/run-ts.mjs bench/microkernel/run.ts --arch ${arch}\` on ${new Date().toISOString().slice(0, 10)} (${cpu}, ${os.cpus().length} cores shared with other work).
Image ${manifest.version}: one cpio of ${(cpio.length / MiB).toFixed(1)} MiB compressed each way, kernel ${(kernelBytes / MiB).toFixed(1)} MiB.
Each variant booted ${reps} times in QEMU TCG (${arch === 'arm64' ? '`virt`, Cortex-A57' : 'q35'}, 1024 MiB, 2 vCPUs) with \`-kernel\`/\`-initrd\`
and \`ipv6.disable=1 quiet\`, no NIC; "power-on -> /init" is host time from QEMU start to our init's first console line
(median, min-max), "guest uptime" is the kernel's clock at that line. Unpack cost = difference to the uncompressed cpio.
A PXE boot adds the download (iPXE over virtio-net on TCG fetched the kernel at about 25 MB/s in the e2e), so a
variant's extra MiB cost about 0.04 s there, and far less on real NICs.

| compressor | flags | initrd MiB | kernel + initrd MiB | power-on -> /init s | guest uptime at /init s | unpack cost s |
|---|---|---:|---:|---:|---:|---:|
${rows.join('\n')}
`;
  const out = path.join(REPO_ROOT, 'bench/microkernel', arch === 'amd64' ? 'RESULTS.md' : `RESULTS-${arch}.md`);
  writeFileSync(out, md);
  process.stdout.write(`\n${md}\nwritten ${path.relative(REPO_ROOT, out)}\n`);
}

await main();
