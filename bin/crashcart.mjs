#!/usr/bin/env node
// Launcher. In a source checkout it runs the TypeScript sources through tsx (so a stale bundle can never
// shadow them); a packaged install without sources (or CRASHCART_USE_DIST=1) runs dist/crashcart.mjs.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bundled = path.join(root, 'dist', 'crashcart.mjs');
const source = path.join(root, 'server', 'cli', 'main.ts');
if (existsSync(bundled) && (process.env.CRASHCART_USE_DIST === '1' || !existsSync(source))) {
  await import(pathToFileURL(bundled).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(source).href);
}
