/** Replay mode: tool outputs read from a folder of saved files (`--from DIR`). */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ToolOutputs } from '../facts/tool-files.ts';
import { MAX_TOOL_OUTPUT_BYTES } from '../parse/kv-text.ts';
import { COLLECTOR_LIST, isPerNic, nicFilePattern } from './collectors.ts';

/** Where `crashcart-agent collect` writes the collector failures. */
export const ERRORS_FILE = 'collector-errors.json';

/** Every file name of the collector table, and the patterns of its per-NIC rows. */
const KNOWN = new Set<string>(COLLECTOR_LIST.filter(([, c]) => !isPerNic(c)).flatMap(([, c]) => c.files));
const PER_NIC = COLLECTOR_LIST.filter(([, c]) => isPerNic(c)).flatMap(([, c]) => c.files.map(nicFilePattern));

/** True for a file name replay mode reads. */
export function isToolFile(name: string): boolean {
  return KNOWN.has(name) || PER_NIC.some((re) => re.test(name));
}

/** Read every known tool output in DIR; unknown files are ignored, unreadable ones reported. */
export async function readToolDir(dir: string): Promise<ToolOutputs> {
  const out: ToolOutputs = { files: new Map(), errors: [] };
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    throw new Error(
      `cannot read replay folder ${dir}: ${(e as Error).message}. Fix: pass --from with a folder written by \`crashcart-agent collect DIR\`.`,
    );
  }
  // `collect` saved the failures it met; a replay reports them again (support cases see the same picture).
  if (names.includes(ERRORS_FILE)) {
    try {
      const saved = JSON.parse(await readFile(path.join(dir, ERRORS_FILE), 'utf8')) as unknown;
      if (Array.isArray(saved)) {
        for (const e of saved.slice(0, 256)) {
          const o = e as Record<string, unknown>;
          if (typeof o?.['collector'] === 'string' && typeof o['error'] === 'string')
            out.errors.push({ collector: o['collector'].slice(0, 64), error: o['error'].slice(0, 4096) });
        }
      }
    } catch (e) {
      out.errors.push({ collector: ERRORS_FILE, error: `unreadable: ${(e as Error).message}` });
    }
  }
  for (const name of names.sort()) {
    if (!isToolFile(name)) continue;
    const p = path.join(dir, name);
    try {
      const st = await stat(p);
      if (!st.isFile()) continue;
      if (st.size > MAX_TOOL_OUTPUT_BYTES) {
        out.errors.push({ collector: name, error: `file is ${st.size} bytes, over the ${MAX_TOOL_OUTPUT_BYTES} limit; skipped` });
        continue;
      }
      out.files.set(name, await readFile(p, 'utf8'));
    } catch (e) {
      out.errors.push({ collector: name, error: (e as Error).message });
    }
  }
  return out;
}
