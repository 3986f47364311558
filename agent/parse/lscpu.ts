/** `lscpu -J` (or plain `lscpu`) -> the CPU summary. Pure. */
import { arr, clean, colonPairs, int, looksJson, num, rec, str, tryJson } from './kv-text.ts';

/** CPU summary from lscpu. */
export interface LscpuFacts {
  architecture?: string;
  model?: string;
  vendor?: string;
  cpus?: number;
  sockets?: number;
  cores_per_socket?: number;
  threads_per_core?: number;
  mhz?: number;
  hypervisor?: string;
  flags?: string[];
}

/** Flatten lscpu's JSON (newer versions nest fields under "children") into field -> data. */
function jsonFields(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const stack = [...arr(rec(tryJson(text))['lscpu'])];
  let guard = 0;
  while (stack.length > 0 && guard++ < 10_000) {
    const e = rec(stack.shift());
    const field = str(e['field'])?.replace(/:$/, '').trim();
    const data = str(e['data']);
    if (field && data !== undefined && !out.has(field)) out.set(field, data);
    stack.push(...arr(e['children']));
  }
  return out;
}

/** Parse either form; unknown fields are ignored. */
export function parseLscpu(text: string): LscpuFacts {
  const f = looksJson(text) ? jsonFields(text) : colonPairs(text);
  const g = (k: string): string | undefined => clean(f.get(k));
  const sockets = int(g('Socket(s)')) ?? int(g('Cluster(s)'));
  const flags = g('Flags');
  return {
    architecture: g('Architecture'),
    model: g('Model name'),
    vendor: g('Vendor ID'),
    cpus: int(g('CPU(s)')),
    sockets,
    cores_per_socket: int(g('Core(s) per socket')) ?? int(g('Core(s) per cluster')),
    threads_per_core: int(g('Thread(s) per core')),
    mhz: num(g('CPU max MHz')) ?? num(g('CPU MHz')),
    hypervisor: g('Hypervisor vendor'),
    flags: flags ? flags.split(/\s+/).slice(0, 1024) : undefined,
  };
}
