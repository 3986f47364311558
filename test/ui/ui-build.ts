/**
 * The admin plane serves renderer/dist: build it before the browser tests when any renderer
 * source is newer than the last build, so the tests never exercise a stale bundle. Two test
 * files may ask at once; a lock directory makes the second wait for the first.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const rendererDir = path.join(root, 'renderer');
const builtIndex = path.join(rendererDir, 'dist', 'index.html');
const lock = path.join(rendererDir, '.build-lock');

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'dist' || e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

const stale = (): boolean => !existsSync(builtIndex) || statSync(builtIndex).mtimeMs < newestSource(rendererDir);

/** Build the UI if it is missing or older than its sources. */
export async function ensureUiBuilt(): Promise<void> {
  for (let waited = 0; ; waited += 200) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Someone else builds; a lock older than 2 minutes is left over from a killed run.
      if (waited > 120_000 || (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 120_000)) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    if (stale()) await build({ configFile: path.join(rendererDir, 'vite.config.ts'), logLevel: 'warn' });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
