/**
 * iPXE loader start benchmark: each iPXE file the registry installs, next to Debian's own build of it (the reference:
 * the package's file before the registry's patch), booted on real firmware in QEMU on TCG, timed on the serial console
 * from the moment the firmware hands over to the moment iPXE starts its own DHCP. The difference is iPXE's
 * "Press Ctrl-B" prompt (2 s in Debian's builds, 0.3 s in ours: docs/boot.md, "The iPXE prompt"), plus whatever the
 * repacked `undionly.kpxe` costs to fetch and unpack. Writes bench/loaders/RESULTS.md.
 *
 *   flock /tmp/cc-qemu.lock node bin/run-ts.mjs bench/loaders/run.ts [--reps N]
 *
 * The files come from the pinned `ipxe` package through `prepareLoaders`, from the loader cache
 * `bash scripts/ensure-test-deps.sh` fills (build/out/cache/loaders/; test/support/cached-loaders.ts): ours as the
 * registry installs them, Debian's by the same path with the registry's patches left out and the package's pins
 * (`fromPackage`) as the pins. The bench fetches nothing: without the cache it stops before booting anything,
 * naming what is missing and that preparation step.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import type { LoaderArtifact } from '../../server/prepare/loaders/artifact.ts';
import { loaderByName } from '../../server/prepare/loaders/registry.ts';
import { killGuests, pxeBoot, type BootResult, type Firmware } from '../../test/loaders/qemu-boot.ts';
import { prepareCachedLoaders } from '../../test/support/cached-loaders.ts';
import { cachedLoaderArchive } from '../../test/support/loopback-debian-mirror.ts';
import { requireTools } from '../require-tools.ts';
import { median } from '../percentile.ts';

requireTools('loaders', ['qemu-system-x86_64']);
try {
  cachedLoaderArchive(); // the packages the loaders come from, checked against their pins; nothing is fetched
} catch (e) {
  process.stderr.write(`bench/loaders: ${(e as Error).message}\n`);
  process.exit(2);
}
const argv = process.argv.slice(2);
const reps = Number(argv.includes('--reps') ? argv[argv.indexOf('--reps') + 1] : 3);
/** A bound per boot, not a timing: TCG on a busy machine. */
const BOUND_MS = 180_000;

/** One loader on one firmware: where the hand-over and iPXE's DHCP show on the console. */
interface Case {
  readonly file: string;
  readonly firmware: Firmware;
  readonly label: string;
  /** The firmware's last line before the loader runs (the first occurrence counts). */
  readonly handover: string;
  /** Where the loader's own output starts (so the ROM's own iPXE lines before it are not counted). */
  readonly loaderStart: string;
}
const CASES: Case[] = [
  {
    file: 'undionly.kpxe',
    firmware: 'seabios',
    label: "x86 BIOS (SeaBIOS; QEMU's iPXE ROM as the PXE ROM)",
    handover: 'Filename: undionly.kpxe',
    loaderStart: '[PXE-NBP]',
  },
  {
    file: 'snponly.efi',
    firmware: 'ovmf',
    label: 'x86_64 UEFI (OVMF)',
    handover: 'Start PXE over IPv4',
    loaderStart: 'iPXE initialising devices',
  },
  {
    file: 'ipxe.efi',
    firmware: 'ovmf',
    label: 'x86_64 UEFI (OVMF)',
    handover: 'Start PXE over IPv4',
    loaderStart: 'iPXE initialising devices',
  },
];
const CONFIGURING = 'Configuring (net0';
const PROMPT = 'Press Ctrl-B for the iPXE command line';

/** Seconds after QEMU started at which `raw[index]` arrived. */
function timeAt(r: BootResult, index: number): number {
  const a = r.arrivals.find((x) => x.rawEnd > index);
  if (!a) throw new Error(`no arrival covers console index ${index}`);
  return a.ms / 1000;
}

/** Hand-over -> iPXE's DHCP, and the prompt's own wait (prompt -> next line), in seconds. */
function measure(c: Case, r: BootResult): { toDhcp: number; prompt: number } {
  const need = (what: string, from: number): number => {
    const i = r.raw.indexOf(what, from);
    if (i < 0) throw new Error(`${c.file}: "${what}" not on the console:\n${r.console.slice(-1500)}`);
    return i;
  };
  const h = need(c.handover, 0);
  const s = need(c.loaderStart, h);
  const p = need(PROMPT, s);
  const d = need(CONFIGURING, p);
  // The prompt is erased in place: the next thing iPXE prints after it ends the wait.
  const next = r.raw.slice(p + PROMPT.length).search(/[^. \b]/); // in a class, \b is the backspace iPXE erases with
  return { toDhcp: timeAt(r, d) - timeAt(r, h), prompt: timeAt(r, p + PROMPT.length + next) - timeAt(r, p) };
}

const range = (xs: number[]) => `${median(xs).toFixed(2)} (${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)})`;

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'cc-loaders-bench-'));
  const ours = path.join(work, 'ours', 'tftp');
  const debian = path.join(work, 'debian', 'tftp');
  try {
    for (const d of [ours, debian]) mkdirSync(d, { recursive: true });
    const real = ['ipxe-bios', 'ipxe-efi-x64'].map((n) => loaderByName(n)!);
    const asPackaged: LoaderArtifact[] = real.map((a) => ({
      ...a,
      files: a.files.map(({ patches: _p, packed: _k, fromPackage, ...f }) => ({
        ...f,
        ...(fromPackage ?? { sha256: f.sha256, bytes: f.bytes }),
      })),
    }));
    const scratchDir = path.join(work, 'cache');
    await prepareCachedLoaders({ targetDir: ours, scratchDir, artifacts: real });
    await prepareCachedLoaders({ targetDir: debian, scratchDir, artifacts: asPackaged });

    const results = new Map<string, { toDhcp: number[]; prompt: number[] }>();
    const variants = [
      { name: 'Debian', dir: debian },
      { name: 'Crashcart', dir: ours },
    ];
    for (let r = 0; r < reps; r++)
      for (const c of CASES)
        // Alternate which build goes first each round, so a noisy neighbour does not always hit the same one.
        for (const v of r % 2 ? [...variants].reverse() : variants) {
          const boot = await pxeBoot(
            c.firmware,
            v.dir,
            c.file,
            new RegExp(`${escape(c.loaderStart)}[\\s\\S]*${escape(CONFIGURING)}`),
            BOUND_MS,
          );
          if (!boot.matched) throw new Error(`${v.name} ${c.file} did not reach iPXE's DHCP:\n${boot.console.slice(-1500)}`);
          const m = measure(c, boot);
          const key = `${c.file}|${v.name}`;
          const slot = results.get(key) ?? { toDhcp: [], prompt: [] };
          slot.toDhcp.push(m.toDhcp);
          slot.prompt.push(m.prompt);
          results.set(key, slot);
          process.stdout.write(
            `round ${r + 1}/${reps} ${c.file} ${v.name}: hand-over -> DHCP ${m.toDhcp.toFixed(2)} s, prompt ${m.prompt.toFixed(2)} s\n`,
          );
        }

    const rows = CASES.map((c) => {
      const d = results.get(`${c.file}|Debian`)!;
      const o = results.get(`${c.file}|Crashcart`)!;
      return `| \`${c.file}\` | ${c.label} | ${range(d.prompt)} | ${range(o.prompt)} | ${range(d.toDhcp)} | ${range(o.toDhcp)} | ${(median(d.toDhcp) - median(o.toDhcp)).toFixed(2)} |`;
    });
    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    const md = `# iPXE loader start (\`bench/loaders\`)

Generated by \`node bin/run-ts.mjs bench/loaders/run.ts --reps ${reps}\` on ${new Date().toISOString().slice(0, 10)} (${cpu}, ${os.cpus().length} cores shared with other work).
Each iPXE file the registry installs ("Crashcart") against Debian's build of it ("Debian": the package's file, before the
registry's patch), each booted ${reps} times in QEMU on TCG, the two alternating, from QEMU's user-mode TFTP
(test/loaders/qemu-boot.ts). Times are host seconds between console lines, stamped as they arrive (median, min-max):
"hand-over -> DHCP" from the firmware's last line before the loader runs (BIOS: the PXE ROM's \`Filename:\`, UEFI:
\`Start PXE over IPv4\`) to iPXE's own \`Configuring (net0\`; "prompt" from "Press Ctrl-B for the iPXE command line" to
iPXE's next line. The BIOS hand-over includes the TFTP of the file and its unpacking (ours is repacked, 3 KB larger).

| file | firmware | prompt, Debian's (s) | prompt, Crashcart's (s) | hand-over -> DHCP, Debian's (s) | hand-over -> DHCP, Crashcart's (s) | saved per boot (s) |
|---|---|---:|---:|---:|---:|---:|
${rows.join('\n')}
`;
    const out = path.join(REPO_ROOT, 'bench/loaders/RESULTS.md');
    writeFileSync(out, md);
    process.stdout.write(`\n${md}\nwritten ${path.relative(REPO_ROOT, out)}\n`);
  } finally {
    killGuests();
    rmSync(work, { recursive: true, force: true });
  }
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

await main();
