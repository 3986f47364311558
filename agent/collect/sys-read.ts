/**
 * Synchronous reads of /proc and /sys for the collectors: these files live in kernel memory, so a read takes
 * microseconds, while fs/promises sends each open, stat, read and close through libuv's thread pool (four or
 * five wake-ups of another thread per file, the dearest part of the walk on an emulated CPU). None throws:
 * a missing or unreadable file is `undefined` (or an empty listing), which every caller expects.
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import path from 'node:path';

/** A file's text (or hex, for binary variables), or undefined when it cannot be read. */
export function readText(file: string, encoding: 'utf8' | 'hex' = 'utf8'): string | undefined {
  try {
    return readFileSync(file).toString(encoding);
  } catch {
    return undefined;
  }
}

/** A directory's entries, in the kernel's order, or none. */
export function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Where a symlink points, or undefined. */
export function readLink(file: string): string | undefined {
  try {
    return readlinkSync(file);
  } catch {
    return undefined;
  }
}

/** The last name of the path a link (or chain of links) leads to, or undefined. */
export function realName(file: string): string | undefined {
  try {
    return path.basename(realpathSync(file));
  } catch {
    return undefined;
  }
}

/** The path exists itself (a link counts even when its target is outside this root). */
export function present(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

/** One entry of a /sys directory (a NIC, a disk): its name, its paths and its attributes' trimmed text. */
export interface SysEntry {
  name: string;
  at: (file: string) => string;
  attr: (file: string) => string | undefined;
}

/** The entry `name` of `dir` (whether it exists or not). */
export function sysEntry(dir: string, name: string): SysEntry {
  const at = (file: string) => path.join(dir, name, file);
  return { name, at, attr: (file: string) => readText(at(file))?.trim() || undefined };
}

/** The entries of `dir`, sorted by name, at most `max` (a hostile or huge tree cannot make the walk unbounded). */
export function sysEntries(dir: string, max: number): SysEntry[] {
  return listDir(dir)
    .sort()
    .slice(0, max)
    .map((name) => sysEntry(dir, name));
}
