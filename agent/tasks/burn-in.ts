/**
 * The `burn-in` task in the microkernel: CPU and memory stress for the first part of the set time, then a
 * sequential read of every disk (all at once, over and over) for `disk_read_s`; the results go back as `burnin_*` facts
 * and an event. A burn-in fails on any miscalculation, memory mismatch or disk read error.
 */
import fs from 'node:fs';
import os from 'node:os';
import type { BurnInJob, BurnInResult, TaskProgress } from '../../contract/agent-tasks.ts';
import { parseMeminfo } from '../parse/proc.ts';
import { stress } from './stress-workers.ts';
import type { Disk } from './root-disk.ts';

/** What the burn-in needs from its surroundings. */
export interface BurnInEnv {
  disks: () => Disk[];
  progress: (p: TaskProgress) => Promise<void>;
  log: (msg: string, data?: Record<string, unknown>) => void;
  meminfo?: () => string;
  progressIntervalMs?: number;
}

/** Bytes per disk read. */
const READ_CHUNK = 1024 * 1024;

/** One disk's read test. */
export interface DiskRead {
  name: string;
  read_bytes: number;
  read_mbps: number;
  errors: number;
}

/**
 * Read `d` sequentially for `ms`, starting over from the beginning at its end, so that a small disk keeps the
 * burn-in running for the time the policy set. A read error skips its chunk and counts; a pass with errors is
 * the last one (the burn-in has failed already). `now` is the clock (tests pass their own).
 */
export async function readDisk(d: Disk, ms: number, onBytes: (n: number) => void, now: () => number = Date.now): Promise<DiskRead> {
  const t0 = now();
  const fh = await fs.promises.open(d.path, 'r');
  const buf = Buffer.alloc(READ_CHUNK);
  let off = 0;
  let read = 0;
  let errors = 0;
  try {
    while (d.size > 0 && now() - t0 < ms) {
      if (off >= d.size) {
        if (errors > 0) break;
        off = 0;
      }
      try {
        const { bytesRead } = await fh.read(buf, 0, Math.min(READ_CHUNK, d.size - off), off);
        if (bytesRead === 0) {
          off = d.size;
          continue;
        }
        off += bytesRead;
        read += bytesRead;
        onBytes(bytesRead);
      } catch {
        errors++;
        off += READ_CHUNK;
      }
    }
  } finally {
    await fh.close();
  }
  const secs = Math.max((now() - t0) / 1000, 0.001);
  return { name: d.name, read_bytes: read, read_mbps: Math.round((read / secs / 1e6) * 10) / 10, errors };
}

/** The facts a burn-in leaves on the node (tag rules read them: `burnin_passed == true`). Pure. */
export function burnInFacts(r: Omit<BurnInResult, 'facts'>, finishedAt: string): BurnInResult['facts'] {
  const errors = r.disks.reduce((n, d) => n + d.errors, 0);
  const minMbps = r.disks.length ? Math.min(...r.disks.map((d) => d.read_mbps)) : null;
  return {
    burnin_passed: r.passed,
    burnin_seconds: Math.round(r.seconds),
    burnin_finished_at: finishedAt,
    burnin_cpu_workers: r.cpu.workers,
    burnin_cpu_ops: r.cpu.bogo_ops,
    burnin_cpu_failures: r.cpu.failures,
    burnin_memory_mb: Math.round(r.memory.bytes / 1048576),
    burnin_memory_failures: r.memory.failures,
    burnin_disks: r.disks.length,
    burnin_disk_errors: errors,
    ...(minMbps !== null ? { burnin_disk_min_mbps: minMbps } : {}),
  };
}

/** Run a burn-in job to its end; a failed burn-in is a result with `passed: false`. */
export async function runBurnIn(job: BurnInJob, env: BurnInEnv): Promise<BurnInResult> {
  const t0 = Date.now();
  const disks = env.disks();
  const diskMs = disks.length ? job.disk_read_s * 1000 : 0;
  const stressMs = Math.max(job.duration_s * 1000 - diskMs, 1000);
  const mem = parseMeminfo(env.meminfo?.() ?? fs.readFileSync('/proc/meminfo', 'utf8'));
  const memBytes = Math.floor(((mem.available_mb ?? 0) * 1048576 * job.memory_percent) / 100);
  const workers = Math.max(1, os.availableParallelism());
  env.log(
    `burn-in: ${workers} CPU workers and ${Math.round(memBytes / 1048576)} MiB of memory for ${stressMs / 1000} s, then ${disks.length} disk(s) for ${diskMs / 1000} s`,
  );

  const every = env.progressIntervalMs ?? 2000;
  const total = stressMs + diskMs;
  let diskBytes = 0;
  let phase = 'cpu-memory';
  const tick = (): void => {
    const el = Date.now() - t0;
    void env
      .progress({
        phase,
        bytes_done: phase === 'cpu-memory' ? 0 : diskBytes,
        bytes_total: 0,
        percent: Math.min(100, Math.round((el / total) * 1000) / 10),
        mbps: phase === 'disk-read' ? Math.round((diskBytes / Math.max(el - stressMs, 1) / 1000) * 10) / 10 : 0,
        eta_s: Math.max(0, Math.round((total - el) / 1000)),
        detail: phase === 'cpu-memory' ? `${workers} CPU workers, ${Math.round(memBytes / 1048576)} MiB` : `${disks.length} disk(s)`,
      })
      .catch(() => undefined);
  };
  tick();
  const timer = setInterval(tick, Math.max(every, 200));
  try {
    const s = await stress(workers, memBytes, stressMs);
    phase = 'disk-read';
    tick();
    const reads = await Promise.all(
      disks.map((d) =>
        readDisk(d, diskMs, (n) => (diskBytes += n)).catch((e: Error) => {
          env.log(`burn-in: cannot read ${d.path}: ${e.message}`);
          return { name: d.name, read_bytes: 0, read_mbps: 0, errors: 1 };
        }),
      ),
    );
    const cpu = { workers, bogo_ops: s.cpu.reduce((n, c) => n + c.ops, 0), failures: s.cpu.reduce((n, c) => n + c.failures, 0) };
    const memory = { bytes: s.memory.bytes, bogo_ops: s.memory.ops, failures: s.memory.failures };
    const passed = cpu.failures === 0 && memory.failures === 0 && reads.every((r) => r.errors === 0);
    const base = { kind: 'burn-in' as const, passed, seconds: (Date.now() - t0) / 1000, cpu, memory, disks: reads };
    return { ...base, facts: burnInFacts(base, new Date().toISOString()) };
  } finally {
    clearInterval(timer);
  }
}
