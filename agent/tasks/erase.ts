/**
 * The `erase` task in the microkernel: every disk, the strongest method it offers (erase-plan.ts), each
 * disk reported with its method, size, time and result. A method that fails falls through to the next;
 * the overwrite pass always remains. The tools (nvme-cli, hdparm, blkdiscard) come from the tools overlay.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { EraseDisk, EraseJob, EraseMethod, EraseResult, TaskProgress } from '../../contract/agent-tasks.ts';
import { parseHdparmSecurity, type AtaSecurity } from '../parse/hdparm-security.ts';
import { nvmeSes, parseNvmeIdCtrl, type NvmeEraseCaps } from '../parse/nvme-id-ctrl.ts';
import { allZero, planErase, sampleOffsets, SAMPLE_BYTES, type DiskEraseCaps } from './erase-plan.ts';
import { overwriteZeros } from './overwrite.ts';
import { ProgressMeter } from './progress.ts';
import type { Disk } from './root-disk.ts';

const run = promisify(execFile);

/** What the erase needs from its surroundings (real sysfs and tools in the microkernel). */
export interface EraseEnv {
  disks: () => Disk[];
  progress: (p: TaskProgress) => Promise<void>;
  log: (msg: string, data?: Record<string, unknown>) => void;
  /** The tools' raw output goes here (debug level: what a drive said, for a bug report). */
  debug?: (msg: string, data?: Record<string, unknown>) => void;
  /** True once the appliance no longer wants the job (unbound): no further disk is started. */
  stopped?: () => boolean;
  sysBlock?: string;
  progressIntervalMs?: number;
}

/**
 * The temporary ATA user password: SECURITY ERASE UNIT needs one set first (ACS-3 7.45); the erase
 * clears it again. Not a secret: it exists for the seconds between the two commands.
 */
const ATA_PASS = 'crashcart';

/** Probe what one disk offers; a tool that fails leaves that capability null (noted in the plan). */
export async function probeDisk(d: Disk, sysBlock = '/sys/block', raw: Record<string, string> = {}): Promise<DiskEraseCaps> {
  let discard = false;
  try {
    // Only a block device takes a discard (a regular file standing in for a disk does not).
    if (fs.statSync(d.path).isBlockDevice())
      discard = Number(fs.readFileSync(path.join(sysBlock, d.name, 'queue/discard_max_bytes'), 'utf8').trim()) > 0;
  } catch {
    /* no such device or attribute: no discard */
  }
  const caps: DiskEraseCaps = { discard };
  const nv = /^(nvme\d+)n\d+$/.exec(d.name);
  if (nv) caps.nvme = await tool<NvmeEraseCaps>('nvme', ['id-ctrl', `/dev/${nv[1]}`, '-o', 'json'], parseNvmeIdCtrl, raw);
  else if (/^sd[a-z]+$/.test(d.name)) caps.ata = await tool<AtaSecurity>('hdparm', ['-I', d.path], parseHdparmSecurity, raw);
  return caps;
}

async function tool<T>(cmd: string, args: string[], parse: (s: string) => T | null, raw: Record<string, string>): Promise<T | null> {
  const key = [cmd, ...args].join(' ');
  try {
    const out = (await run(cmd, args, { timeout: 60_000, maxBuffer: 4 << 20 })).stdout;
    raw[key] = out.slice(0, 16384);
    return parse(out);
  } catch (e) {
    raw[key] = `failed: ${errText(e)}`;
    return null;
  }
}

/** Read the sample points back; true when all are zero. */
export function samplesZero(diskPath: string, size: number): boolean {
  const fd = fs.openSync(diskPath, 'r');
  try {
    const buf = Buffer.alloc(SAMPLE_BYTES);
    for (const off of sampleOffsets(size)) {
      const n = fs.readSync(fd, buf, 0, Math.min(SAMPLE_BYTES, size - off), off);
      if (!allZero(buf.subarray(0, n))) return false;
    }
    return true;
  } finally {
    fs.closeSync(fd);
  }
}

const errText = (e: unknown): string => {
  const x = e as { stderr?: string; message?: string };
  return (x.stderr?.trim() || x.message || String(e)).split('\n').slice(-2).join(' ').slice(0, 300);
};

/** Carry out one method; throws when it did not erase. */
async function apply(m: EraseMethod, d: Disk, caps: DiskEraseCaps, meter: ProgressMeter): Promise<string> {
  switch (m) {
    case 'nvme-format': {
      const ses = nvmeSes(caps.nvme!);
      // Format NVM returns when the controller is done; a large drive's user data erase takes a while.
      await run('nvme', ['format', d.path, `--ses=${ses}`, '--force', '--timeout=21600000'], { timeout: 6 * 3600_000 });
      return ses === 2 ? 'cryptographic erase (Format NVM, SES=2)' : 'user data erase (Format NVM, SES=1)';
    }
    case 'ata-secure-erase': {
      const a = caps.ata!;
      const minutes = (a.enhanced ? a.enhancedMinutes : a.eraseMinutes) ?? 600;
      await run('hdparm', ['--user-master', 'u', '--security-set-pass', ATA_PASS, d.path], { timeout: 120_000 });
      try {
        const flag = a.enhanced ? '--security-erase-enhanced' : '--security-erase';
        await run('hdparm', ['--user-master', 'u', flag, ATA_PASS, d.path], { timeout: (minutes * 2 + 10) * 60_000 });
      } catch (e) {
        // Do not leave the drive locked with our password.
        await run('hdparm', ['--user-master', 'u', '--security-disable', ATA_PASS, d.path], { timeout: 120_000 }).catch(() => undefined);
        throw e;
      }
      return a.enhanced ? 'ENHANCED SECURITY ERASE UNIT' : 'SECURITY ERASE UNIT';
    }
    case 'blkdiscard': {
      await run('blkdiscard', ['-f', d.path], { timeout: 3600_000 });
      if (!samplesZero(d.path, d.size))
        throw new Error('the disk took the discard but still returns data at sample points (discard is advisory)');
      return `discarded; ${sampleOffsets(d.size).length} sample reads are zero`;
    }
    case 'overwrite': {
      await overwriteZeros(d.path, d.size, (n) => meter.tick(n));
      if (!samplesZero(d.path, d.size)) throw new Error('sample reads after the overwrite are not zero');
      return 'zeros written over every byte';
    }
  }
}

/** Erase one disk: the plan's methods in order until one succeeds. */
export async function eraseDisk(d: Disk, overwriteOnly: boolean, env: EraseEnv): Promise<EraseDisk> {
  const t0 = Date.now();
  const raw: Record<string, string> = {};
  const caps = await probeDisk(d, env.sysBlock, raw);
  if (Object.keys(raw).length) env.debug?.(`erase probe of ${d.path}`, { disk: d.name, raw });
  const plan = planErase(caps, overwriteOnly);
  const notes = [...plan.skipped];
  env.log(`erasing ${d.path}: will try ${plan.methods.join(', ')}`, { disk: d.name, caps });
  for (const m of plan.methods) {
    const meter = new ProgressMeter('erase', d.size, env.progress, `${d.path}: ${m}`, env.progressIntervalMs);
    meter.tick(0);
    try {
      const how = await apply(m, d, caps, meter);
      await meter.finish(d.size);
      notes.unshift(how);
      return row(d, m, true, t0, notes);
    } catch (e) {
      notes.push(`${m} failed: ${errText(e)}`);
      env.log(`erasing ${d.path} with ${m} failed`, { error: errText(e) });
    }
  }
  return row(d, null, false, t0, notes);
}

function row(d: Disk, method: EraseMethod | null, ok: boolean, t0: number, notes: string[]): EraseDisk {
  return {
    name: d.name,
    size: d.size,
    ...(d.model ? { model: d.model } : {}),
    ...(d.serial ? { serial: d.serial } : {}),
    method,
    ok,
    seconds: Math.round((Date.now() - t0) / 100) / 10,
    note: notes.join('; ').slice(0, 1024),
  };
}

/** Erase every disk, one after the other (parallel erases would share one controller's bandwidth). */
export async function runErase(job: EraseJob, env: EraseEnv): Promise<EraseResult> {
  const disks = env.disks();
  const out: EraseDisk[] = [];
  for (const d of disks) {
    if (env.stopped?.()) {
      env.log(`the appliance no longer wants this erase; stopping before ${d.path}`);
      break;
    }
    out.push(await eraseDisk(d, job.overwrite_only, env));
  }
  return { kind: 'erase', disks: out };
}
