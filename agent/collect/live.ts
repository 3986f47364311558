/**
 * Live collectors: the rows of the collector table (collectors.ts) run on this machine. Programs run
 * directly (execFile, no shell), each with a timeout. A missing or failing tool becomes a collector
 * error, never a crash.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ToolOutputs } from '../facts/tool-files.ts';
import { isPhysicalEther } from '../parse/ip.ts';
import { MAX_TOOL_OUTPUT_BYTES } from '../parse/kv-text.ts';
import { COLLECTOR_LIST, COLLECTORS, forNic, isPerNic, NIC, type Collector, type CollectorKey } from './collectors.ts';

/** lshw on a big box takes seconds; anything past this is hung (a wedged BMC makes ipmitool hang). */
export const DEFAULT_TOOL_TIMEOUT_MS = 20_000;
/** Programs run at once: the microkernel has little CPU to spare and lshw is heavy. */
const PARALLEL_RUNS = 2;
/** Per-NIC rows run for at most this many NICs. */
const MAX_NICS = 64;

/** Run one program; resolves with stdout or an error text (never rejects). */
export function runTool(
  cmd: string,
  args: readonly string[],
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

/** Options for a live collection. */
export interface LiveOptions {
  timeoutMs?: number;
  /** Seconds to give lldpd to hear neighbours before asking it (LLDP TTL is 30 s by default; 802.1AB). */
  lldpWaitS?: number;
  /** Root for /proc and /sys (tests). */
  root?: string;
  /**
   * Only what identifies and tags the machine, and no program at all: files under /proc and /sys, each program
   * row's /sys fallback in its place (ip, lsblk, lspci), no slow rows (lshw, ipmitool, LLDP), no LLDP wait. A
   * spawn costs a few hundred ms on an emulated or slow CPU, and this pass had eight. The agent's first register
   * sends this within a second of starting (register-first); the full run follows.
   */
  fast?: boolean;
}

/** A collector's label in `collector_errors`. */
function label(key: CollectorKey, c: Collector<unknown>, nic?: string): string {
  const base = c.label ?? ('run' in c.source ? c.source.run : key);
  return nic === undefined ? base : `${base} ${nic}`;
}

/** Get one row's text (one NIC's for a per-NIC row) and store it, or record why not. */
async function collectOne(
  out: ToolOutputs,
  key: CollectorKey,
  c: Collector<unknown>,
  o: { root: string; timeoutMs: number; nic?: string },
): Promise<void> {
  const file = o.nic === undefined ? c.files[0]! : forNic(c.files[0]!, o.nic);
  const src = c.source;
  let r: { ok: true; stdout: string } | { ok: false; error: string };
  if ('run' in src) {
    const args = o.nic === undefined ? src.args : src.args.map((a) => (a === NIC ? o.nic! : a));
    r = await runTool(src.run, args, o.timeoutMs);
    // lldpctl on a host without lldpd: nothing to report, not a failure.
    if (!r.ok && c.optional && r.error.endsWith('is not installed (install the package that provides it)')) return;
  } else if ('read' in src) {
    // Synchronous: a /proc file is kernel memory (sys-read.ts says why this matters on a slow CPU).
    try {
      r = { ok: true, stdout: readFileSync(path.join(o.root, src.read), 'utf8') };
    } catch (e) {
      r = { ok: false, error: (e as Error).message };
    }
  } else r = { ok: true, stdout: await src.gather(o.root) };
  const rejected = r.ok ? c.reject?.(r.stdout) : undefined;
  if (r.ok && rejected === undefined) out.files.set(file, r.stdout);
  else out.errors.push({ collector: label(key, c, o.nic), error: r.ok ? rejected! : r.error });
}

/** Collect every row of the collector table on this machine. */
export async function collectLive(opts: LiveOptions = {}): Promise<ToolOutputs> {
  const o = { timeoutMs: opts.timeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS, root: opts.root ?? '/' };
  const out: ToolOutputs = { files: new Map(), errors: [] };
  const wanted = (c: Collector<unknown>) => !(opts.fast && (c.slow || 'run' in c.source));
  const rows = COLLECTOR_LIST.filter(([, c]) => !isPerNic(c) && !c.late && wanted(c));
  const programs = rows.filter(([, c]) => 'run' in c.source);
  for (let i = 0; i < programs.length; i += PARALLEL_RUNS)
    await Promise.all(programs.slice(i, i + PARALLEL_RUNS).map(([k, c]) => collectOne(out, k, c, o)));
  for (const [k, c] of rows.filter(([, r]) => !('run' in r.source))) await collectOne(out, k, c, o);
  // What a program could not learn here but /sys has (lsblk without udev: disk serials), filled into its output.
  for (const [, c] of programs) {
    const text = c.supplement ? out.files.get(c.files[0]!) : undefined;
    if (text !== undefined) out.files.set(c.files[0]!, await c.supplement!(text, o.root));
  }
  // A row that gave nothing (or was not run: the fast pass) takes its /sys fallback, before the per-NIC rows read ip's.
  for (const [, c] of COLLECTOR_LIST.filter(([, r]) => !isPerNic(r) && !r.late && !(opts.fast && r.slow))) {
    if (c.fallback && !c.files.some((f) => out.files.has(f))) out.files.set(c.files[0]!, await c.fallback(o.root));
  }
  // Per-NIC rows run for the physical Ethernet NICs the ip row found.
  const addr = out.files.get(COLLECTORS.ipAddr.files[0]!);
  const nics = (addr === undefined ? [] : COLLECTORS.ipAddr.parse(addr)).filter(isPhysicalEther).slice(0, MAX_NICS);
  for (const [k, c] of COLLECTOR_LIST.filter(([, r]) => isPerNic(r) && wanted(r)))
    for (const n of nics) await collectOne(out, k, c, { ...o, nic: n.name });
  if (!opts.fast && (opts.lldpWaitS ?? 0) > 0) await new Promise((r) => setTimeout(r, opts.lldpWaitS! * 1000));
  for (const [k, c] of COLLECTOR_LIST.filter(([, r]) => r.late && !isPerNic(r) && wanted(r))) await collectOne(out, k, c, o);
  return out;
}
