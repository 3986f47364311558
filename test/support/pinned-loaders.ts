/**
 * The pinned first-stage loaders scripts/ensure-test-deps.sh puts into resources/ipxe (it runs
 * build/loaders/fetch-loaders.ts, which downloads them). Tests check them here and never fetch them.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { LOADERS } from '../../server/prepare/loaders/registry.ts';

/** Where ensure-test-deps installs the loaders (fetch-loaders' default target). */
export const SHIPPED_LOADER_DIR = path.resolve(import.meta.dirname, '../../resources/ipxe');

/**
 * Throw, naming each file and the fix, unless every named loader (default: the whole registry) is in `dir`
 * and matches its pin.
 */
export function requirePinnedLoaders(names?: readonly string[], dir = SHIPPED_LOADER_DIR): void {
  const files = LOADERS.flatMap((a) => a.files).filter((f) => !names || names.includes(f.name));
  const unknown = (names ?? []).filter((n) => !files.some((f) => f.name === n));
  if (unknown.length > 0) throw new Error(`not in the loader registry: ${unknown.join(', ')}`);
  const bad: string[] = [];
  for (const f of files) {
    const p = path.join(dir, f.name);
    const st = fs.lstatSync(p, { throwIfNoEntry: false });
    if (!st?.isFile()) bad.push(`${p} is missing`);
    else if (st.size !== f.bytes || createHash('sha256').update(fs.readFileSync(p)).digest('hex') !== f.sha256)
      bad.push(`${p} does not match its pin (sha256 ${f.sha256}, ${f.bytes} bytes)`);
  }
  if (bad.length > 0)
    throw new Error(`${bad.join('\n')}\n  fix: bash scripts/ensure-test-deps.sh (it fetches the pinned loaders into resources/ipxe)`);
}
