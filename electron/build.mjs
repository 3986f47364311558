// Bundles the shell for Electron: main (CJS) and the sandboxed preload (one CJS file, as a
// sandboxed preload cannot import), plus the tray icons. Output: build/out/electron/ (ignored by git and lint).
import { build } from 'esbuild';
import { cpSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, '..', 'build', 'out', 'electron');
mkdirSync(out, { recursive: true });
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  external: ['electron'],
  sourcemap: true,
  logLevel: 'info',
};
await build({ ...common, entryPoints: [path.join(here, 'main.ts')], outfile: path.join(out, 'main.cjs') });
await build({ ...common, entryPoints: [path.join(here, 'preload.ts')], outfile: path.join(out, 'preload.cjs') });
cpSync(path.join(here, 'assets'), path.join(out, 'assets'), { recursive: true });
