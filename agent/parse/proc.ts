/** `/proc/cpuinfo` and `/proc/meminfo` -> counts and totals. Pure. */
import { lines, splitPair } from './kv-text.ts';

/** CPU counts from /proc/cpuinfo. */
export interface CpuinfoFacts {
  logical: number;
  physical?: number;
  model?: string;
  mhz?: number;
  flags?: string[];
}

/** Parse /proc/cpuinfo (x86 "model name", arm "Processor"/"CPU part", ppc "cpu"). */
export function parseCpuinfo(text: string): CpuinfoFacts {
  let logical = 0;
  const phys = new Set<string>();
  let model: string | undefined;
  let mhz: number | undefined;
  let flags: string[] | undefined;
  let legacyArmModel: string | undefined;
  for (const line of lines(text)) {
    const p = splitPair(line);
    if (!p) continue;
    const [k, v] = p;
    if (k === 'processor' && /^\d+$/.test(v)) logical++;
    else if (k === 'physical id') phys.add(v);
    else if ((k === 'model name' || k === 'cpu') && !model && v) model = v;
    else if (k === 'Processor' && !/^\d+$/.test(v)) legacyArmModel ??= v;
    else if (k === 'cpu MHz' && mhz === undefined) mhz = Number.parseFloat(v) || undefined;
    else if ((k === 'flags' || k === 'Features') && !flags) flags = v.split(/\s+/).filter(Boolean).slice(0, 1024);
  }
  return { logical, physical: phys.size > 0 ? phys.size : undefined, model: model ?? legacyArmModel, mhz, flags };
}

/** Memory totals from /proc/meminfo in MiB. */
export interface MeminfoFacts {
  total_mb?: number;
  free_mb?: number;
  available_mb?: number;
  swap_mb?: number;
}

/** Parse /proc/meminfo (also the per-node form "Node 0 MemTotal: ..."). */
export function parseMeminfo(text: string): MeminfoFacts {
  const kb = new Map<string, number>();
  for (const line of lines(text)) {
    const m = /^(?:Node \d+ )?([A-Za-z_()]+):\s+(\d+)(?:\s*kB)?/.exec(line);
    if (m && !kb.has(m[1]!)) kb.set(m[1]!, Number(m[2]));
  }
  const mb = (k: string): number | undefined => (kb.has(k) ? Math.round(kb.get(k)! / 1024) : undefined);
  return { total_mb: mb('MemTotal'), free_mb: mb('MemFree'), available_mb: mb('MemAvailable'), swap_mb: mb('SwapTotal') };
}
