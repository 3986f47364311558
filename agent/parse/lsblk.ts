/** `lsblk -J -b -O` (or `lsblk -P -O` pairs) -> whole disks. Pure. */
import { arr, clean, lines, looksJson, rec, str, tryJson } from './kv-text.ts';

/** One whole disk. */
export interface LsblkDisk {
  name: string;
  size_bytes: number;
  model?: string;
  serial?: string;
  wwn?: string;
  /** A SCSI disk's address, host:channel:target:lun. */
  hctl?: string;
  vendor?: string;
  rotational?: boolean;
  transport?: string;
  type: string;
  removable?: boolean;
}

const MAX_DEVICES = 4096;
/** Device types that are storage you can install to (no loop, rom, partitions or dm maps). */
const DISK_TYPES = new Set(['disk']);

/** "61.9M" / "100G" / "240057409536" -> bytes (binary units, as lsblk prints them). */
export function humanBytes(v: string | number | null | undefined): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (!v) return undefined;
  const m = /^(\d+(?:[.,]\d+)?)\s*([BKMGTPE]?)i?B?$/i.exec(v.trim());
  if (!m) return undefined;
  const pow = 'BKMGTPE'.indexOf((m[2] || 'B').toUpperCase());
  return Math.round(Number(m[1]!.replace(',', '.')) * 1024 ** Math.max(pow, 0));
}

function flag(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === '1' || v === 1) return true;
  if (v === '0' || v === 0) return false;
  return undefined;
}

/** A SCSI address, host:channel:target:lun (lsblk's HCTL; the name of a SCSI disk's device in /sys). */
export const HCTL = /^\d{1,10}:\d{1,10}:\d{1,10}:\d{1,20}$/;

/** lsblk's HCTL when it is one, else nothing. */
function hctlOf(v: string | undefined): string | undefined {
  const t = v?.trim();
  return t && HCTL.test(t) ? t : undefined;
}

function toDisk(o: Record<string, unknown>): LsblkDisk | null {
  const type = str(o['type']) ?? '';
  const rawName = str(o['kname']) ?? str(o['name']);
  const size = humanBytes(str(o['size']) ?? (o['size'] as number | undefined));
  if (!DISK_TYPES.has(type) || !rawName || size === undefined) return null;
  // Compressed RAM swap and RAM disks report type "disk" but are nothing to install to.
  if (/^(\/dev\/)?(zram|ram)\d/.test(rawName)) return null;
  return {
    name: rawName.replace(/^\/dev\//, ''),
    size_bytes: size,
    model: clean(str(o['model'])),
    serial: clean(str(o['serial'])),
    wwn: clean(str(o['wwn'])),
    hctl: hctlOf(str(o['hctl'])),
    vendor: clean(str(o['vendor'])),
    rotational: flag(o['rota']),
    transport: clean(str(o['tran'])),
    type,
    removable: flag(o['rm']),
  };
}

/** Parse `KEY="value"` pairs of one `lsblk -P` line. */
export function pairsLine(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([A-Z0-9:%_-]+)="((?:[^"\\]|\\.)*)"/g;
  let m: RegExpExecArray | null;
  let guard = 0;
  while ((m = re.exec(line)) !== null && guard++ < 512) out[m[1]!.toLowerCase()] = m[2]!;
  return out;
}

/** Parse lsblk output in either machine format; returns whole disks only. */
export function parseLsblk(text: string): LsblkDisk[] {
  const out: LsblkDisk[] = [];
  if (looksJson(text)) {
    const stack = [...arr(rec(tryJson(text))['blockdevices'])];
    let guard = 0;
    while (stack.length > 0 && guard++ < MAX_DEVICES) {
      const o = rec(stack.shift());
      const d = toDisk(o);
      if (d) out.push(d);
    }
    return out;
  }
  for (const line of lines(text)) {
    if (out.length >= MAX_DEVICES) break;
    if (!line.includes('="')) continue;
    const d = toDisk(pairsLine(line));
    if (d) out.push(d);
  }
  return out;
}
