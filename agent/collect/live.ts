/**
 * Live collectors: run the tools directly (execFile, no shell), each with a
 * timeout. A missing or failing tool becomes a collector error, never a crash.
 */
import { execFile } from 'node:child_process';
import { access, readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import type { ToolOutputs } from '../facts/tool-files.ts';
import { MAX_TOOL_OUTPUT_BYTES } from '../parse/kv-text.ts';
import { isPhysicalEther, parseIp } from '../parse/ip.ts';

/** lshw on a big box takes seconds; anything past this is hung (a wedged BMC makes ipmitool hang). */
export const DEFAULT_TOOL_TIMEOUT_MS = 20_000;

/** One tool run: file name, program, arguments. */
interface ToolRun {
  file: string;
  cmd: string;
  args: string[];
}

/** The tools and the files their outputs are saved as (see facts/tool-files.ts). */
export const TOOL_RUNS: readonly ToolRun[] = [
  // SMBIOS types the inventory uses: BIOS, system, board, chassis, CPU, DIMMs, IPMI, host interface.
  {
    file: 'dmidecode.txt',
    cmd: 'dmidecode',
    args: ['-t', '0', '-t', '1', '-t', '2', '-t', '3', '-t', '4', '-t', '17', '-t', '38', '-t', '42'],
  },
  { file: 'lshw.json', cmd: 'lshw', args: ['-json', '-quiet'] },
  { file: 'lscpu.json', cmd: 'lscpu', args: ['-J'] },
  { file: 'lsblk.json', cmd: 'lsblk', args: ['-J', '-b', '-O'] },
  { file: 'ip-addr.json', cmd: 'ip', args: ['-j', 'addr'] },
  { file: 'ip-link.json', cmd: 'ip', args: ['-j', '-d', 'link'] },
  { file: 'lspci.txt', cmd: 'lspci', args: ['-Dvmmnk'] },
  { file: 'ipmitool-lan.txt', cmd: 'ipmitool', args: ['lan', 'print'] },
  { file: 'ipmitool-mc.txt', cmd: 'ipmitool', args: ['mc', 'info'] },
  { file: 'ipmitool-fru.txt', cmd: 'ipmitool', args: ['fru', 'print'] },
  { file: 'lldpctl.json', cmd: 'lldpctl', args: ['-f', 'json'] },
];

/** Run one program; resolves with stdout or an error text (never rejects). */
export function runTool(
  cmd: string,
  args: string[],
  timeoutMs: number,
): Promise<{ ok: true; stdout: string } | { ok: false; error: string }> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { timeout: timeoutMs, maxBuffer: MAX_TOOL_OUTPUT_BYTES, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } },
      (err, stdout, stderr) => {
        if (!err) return resolve({ ok: true, stdout });
        const e = err as NodeJS.ErrnoException & { killed?: boolean };
        if (e.code === 'ENOENT') return resolve({ ok: false, error: `${cmd} is not installed (install the package that provides it)` });
        if (e.killed) return resolve({ ok: false, error: `${cmd} timed out after ${timeoutMs} ms` });
        const msg = (stderr || e.message).trim().split('\n').slice(0, 3).join(' ');
        // Some tools exit non-zero but still print something useful (lspci without libkmod).
        if (stdout.trim() !== '') return resolve({ ok: true, stdout });
        resolve({ ok: false, error: `${cmd} ${args.join(' ')} failed: ${msg}`.slice(0, 4000) });
      },
    );
  });
}

/** Read /sys/class/dmi/id as key=value lines (works without root for most fields). */
async function dmiIdText(root: string): Promise<string> {
  const dir = path.join(root, 'sys/class/dmi/id');
  const keys = [
    'sys_vendor',
    'product_name',
    'product_version',
    'product_serial',
    'product_uuid',
    'board_name',
    'board_serial',
    'bios_vendor',
    'bios_version',
    'bios_date',
    'chassis_type',
  ];
  const rows: string[] = [];
  for (const k of keys) {
    try {
      rows.push(`${k}=${(await readFile(path.join(dir, k), 'utf8')).trim()}`);
    } catch {
      // unreadable without root (serials, uuid): dmidecode or lshw supply them when they can
    }
  }
  return rows.join('\n');
}

/** Options for a live collection. */
export interface LiveOptions {
  timeoutMs?: number;
  /** Seconds to give lldpd to hear neighbours before asking it (LLDP TTL is 30 s by default; 802.1AB). */
  lldpWaitS?: number;
  /** Root for /proc and /sys (tests). */
  root?: string;
}

/** Collect every tool output on this machine. */
export async function collectLive(opts: LiveOptions = {}): Promise<ToolOutputs> {
  const timeout = opts.timeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS;
  const root = opts.root ?? '/';
  const out: ToolOutputs = { files: new Map(), errors: [] };
  const runs = TOOL_RUNS.filter((r) => r.cmd !== 'lldpctl');
  // Two at a time: the microkernel has little CPU to spare and lshw is heavy.
  for (let i = 0; i < runs.length; i += 2) {
    const batch = runs.slice(i, i + 2);
    const res = await Promise.all(batch.map((r) => runTool(r.cmd, r.args, timeout)));
    res.forEach((r, j) => {
      const run = batch[j]!;
      if (r.ok && run.cmd === 'dmidecode' && !r.stdout.includes('Handle ')) {
        out.errors.push({
          collector: 'dmidecode',
          error: 'dmidecode found no SMBIOS table (container or VM without one); /sys/class/dmi/id is used instead',
        });
      } else if (r.ok) out.files.set(run.file, r.stdout);
      else out.errors.push({ collector: run.cmd === 'ipmitool' ? `ipmitool ${run.args[0]}` : run.cmd, error: r.error });
    });
  }
  for (const [file, p] of [
    ['cpuinfo', 'proc/cpuinfo'],
    ['meminfo', 'proc/meminfo'],
  ] as const) {
    try {
      out.files.set(file, await readFile(path.join(root, p), 'utf8'));
    } catch (e) {
      out.errors.push({ collector: file, error: (e as Error).message });
    }
  }
  out.files.set('dmi-id.txt', await dmiIdText(root));
  out.files.set(
    'boot-mode.txt',
    await access(path.join(root, 'sys/firmware/efi')).then(
      () => 'uefi',
      () => 'bios',
    ),
  );
  const nics = parseIp(out.files.get('ip-addr.json') ?? '[]')
    .filter(isPhysicalEther)
    .slice(0, 64);
  for (const n of nics) {
    const r = await runTool('ethtool', ['-i', n.name], timeout);
    if (r.ok) out.files.set(`ethtool-${n.name}.txt`, r.stdout);
    else out.errors.push({ collector: `ethtool ${n.name}`, error: r.error });
  }
  if ((opts.lldpWaitS ?? 0) > 0) await new Promise((r) => setTimeout(r, opts.lldpWaitS! * 1000));
  const lldp = TOOL_RUNS.find((r) => r.cmd === 'lldpctl')!;
  const lr = await runTool(lldp.cmd, lldp.args, timeout);
  if (lr.ok) out.files.set(lldp.file, lr.stdout);
  else out.errors.push({ collector: 'lldpctl', error: lr.error });
  if (!out.files.has('lspci.txt')) out.files.set('lspci.txt', await sysfsPci(root));
  return out;
}

/** Fallback when lspci is missing: the same records from /sys/bus/pci/devices. */
export async function sysfsPci(root: string): Promise<string> {
  const dir = path.join(root, 'sys/bus/pci/devices');
  let slots: string[] = [];
  try {
    slots = (await readdir(dir)).slice(0, 4096);
  } catch {
    return '';
  }
  const recs: string[] = [];
  for (const s of slots) {
    const rd = (f: string): Promise<string> =>
      readFile(path.join(dir, s, f), 'utf8').then(
        (t) => t.trim().replace(/^0x/, ''),
        () => '',
      );
    const cls = (await rd('class')).slice(0, 4);
    const drv = await readlink(path.join(dir, s, 'driver')).then(
      (l) => path.basename(l),
      () => '',
    );
    recs.push(
      [`Slot:\t${s}`, `Class:\t${cls}`, `Vendor:\t${await rd('vendor')}`, `Device:\t${await rd('device')}`, drv ? `Driver:\t${drv}` : '']
        .filter(Boolean)
        .join('\n'),
    );
  }
  return recs.join('\n\n');
}
