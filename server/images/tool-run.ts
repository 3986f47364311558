/**
 * External programs that disk-image import and build drive (zstd, xz, qemu-img, mmdebstrap, mkfs.vfat,
 * mtools, mke2fs): found on PATH plus the sbin folders (a non-root PATH often lacks them), run with
 * execFile-style argument lists (never a shell), and a missing one is an error naming its Debian package.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ccError } from '../errors/cc-error.ts';
import type { ErrorCode } from '../errors/catalog.ts';

/** Debian package that ships each program. */
export const TOOL_PACKAGES: Record<string, string> = {
  zstd: 'zstd',
  xz: 'xz-utils',
  'qemu-img': 'qemu-utils',
  mmdebstrap: 'mmdebstrap',
  'mkfs.vfat': 'dosfstools',
  mmd: 'mtools',
  mcopy: 'mtools',
  mke2fs: 'e2fsprogs',
  debugfs: 'e2fsprogs',
  unshare: 'util-linux',
};

const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** Absolute path of a program, or null. */
export function findTool(tool: string, env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of [...(env.PATH ?? '').split(':').filter(Boolean), ...SBIN]) {
    const p = path.join(dir, tool);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return null;
}

/** Absolute paths of programs, or CC_ERR_TOOL_MISSING naming every missing one with its package. */
export function requireTools(tools: string[], why: string): Record<string, string> {
  const found: Record<string, string> = {};
  const missing: string[] = [];
  for (const t of tools) {
    const p = findTool(t);
    if (p) found[t] = p;
    else missing.push(`${t} (Debian package ${TOOL_PACKAGES[t] ?? t})`);
  }
  if (missing.length) throw ccError('CC_ERR_TOOL_MISSING', `${why} needs ${missing.join(', ')}`);
  return found;
}

/** Start a program found by `requireTools`. */
export function spawnTool(tool: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
  const [p] = Object.values(requireTools([tool], tool));
  return spawn(p!, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

/** Last lines of a growing text, for error messages. */
export class Tail {
  private lines: string[] = [];
  private partial = '';
  constructor(private readonly keep = 20) {}
  /** Add output; complete lines go to `onLine`. */
  push(chunk: string, onLine?: (line: string) => void): void {
    const parts = (this.partial + chunk).split(/\r?\n|\r/);
    this.partial = parts.pop() ?? '';
    for (const l of parts) {
      if (!l.trim()) continue;
      this.lines.push(l);
      if (this.lines.length > this.keep) this.lines.shift();
      onLine?.(l);
    }
  }
  /** The kept lines. */
  text(): string {
    return [...this.lines, this.partial].filter(Boolean).join('\n');
  }
}

/**
 * Run a program to completion; stdout and stderr lines go to `onLine`. A non-zero exit rejects with
 * `code` and the last output lines (the program's own words are the best diagnosis).
 */
export function runTool(
  tool: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; onLine?: (line: string) => void; code: ErrorCode; what: string },
): Promise<void> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawnTool(tool, args, { env: opts.env ?? process.env, cwd: opts.cwd });
    } catch (e) {
      reject(e);
      return;
    }
    const tail = new Tail();
    child.stdout?.on('data', (d: Buffer) => tail.push(d.toString(), opts.onLine));
    child.stderr?.on('data', (d: Buffer) => tail.push(d.toString(), opts.onLine));
    child.on('error', (e) => reject(ccError(opts.code, `${opts.what}: ${tool}: ${e.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(ccError(opts.code, `${opts.what}: ${tool} exited with ${signal ?? code}:\n${tail.text()}`));
    });
  });
}
