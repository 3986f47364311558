/**
 * Write the cloud-init NoCloud seed into the deployed root filesystem, at
 * `/var/lib/cloud/seed/nocloud/` (cloud-init's local seed directory). Done with e2fsprogs' debugfs on the
 * disk at the partition's byte offset (`DEVICE?offset=N`, the unix I/O manager's option), so the
 * microkernel needs neither the ext4 driver nor a re-read partition table, and a crafted image never
 * reaches a kernel filesystem driver. A CIDATA partition is not used: one after the root partition would
 * stop growpart from growing it.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Seed } from '../../contract/agent-tasks.ts';
import { TaskError } from './task-error.ts';

/** cloud-init's NoCloud seed directory on the installed system. */
export const SEED_DIR = '/var/lib/cloud/seed/nocloud';

/** The seed files by name, as cloud-init reads them. */
export function seedFiles(seed: Seed): Record<string, string> {
  return { 'meta-data': seed.meta_data, 'user-data': seed.user_data, 'network-config': seed.network_config };
}

/** The debugfs request that creates the seed directory and writes each file (local paths under `dir`). Pure. */
export function debugfsScript(dir: string, names: readonly string[]): string {
  const lines: string[] = [];
  let cur = '';
  for (const part of SEED_DIR.split('/').filter(Boolean)) {
    cur += `/${part}`;
    lines.push(`mkdir ${cur}`); // "already exists" for the parents the image has: harmless
  }
  lines.push(`cd ${SEED_DIR}`);
  for (const n of names) lines.push(`rm ${n}`, `write ${path.join(dir, n)} ${n}`);
  return lines.join('\n') + '\n';
}

/** Write the seed into the ext2/3/4 filesystem at `offset` of `device`, then read each file back. */
export function writeSeed(device: string, offset: number, seed: Seed, debugfs = 'debugfs'): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-seed-'));
  try {
    const files = seedFiles(seed);
    for (const [n, body] of Object.entries(files)) fs.writeFileSync(path.join(dir, n), body, { mode: n === 'user-data' ? 0o600 : 0o644 });
    const cmd = path.join(dir, '.cmd');
    fs.writeFileSync(cmd, debugfsScript(dir, Object.keys(files)));
    const spec = `${device}?offset=${offset}`;
    try {
      execFileSync(debugfs, ['-w', '-f', cmd, spec], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    } catch (e) {
      throw new TaskError('seed-failed', `debugfs could not write the seed into ${spec}: ${(e as Error).message.slice(0, 500)}`);
    }
    // debugfs exits 0 even when a command failed: the read-back is the check.
    for (const [n, body] of Object.entries(files)) {
      let got: string;
      try {
        got = execFileSync(debugfs, ['-R', `cat ${SEED_DIR}/${n}`, spec], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
          timeout: 60_000,
        });
      } catch (e) {
        throw new TaskError('seed-failed', `reading ${SEED_DIR}/${n} back failed: ${(e as Error).message.slice(0, 500)}`);
      }
      if (got !== body)
        throw new TaskError('seed-failed', `${SEED_DIR}/${n} reads back different from what was written (is the root partition ext4?)`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
