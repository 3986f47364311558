#!/usr/bin/env node
// Launcher: runs the bundled agent when present, else the TypeScript sources through tsx.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bundled = path.join(root, 'build', 'out', 'agent', 'crashcart-agent.mjs');
if (existsSync(bundled) && !process.env.CRASHCART_FROM_SOURCE) {
  await import(pathToFileURL(bundled).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(path.join(root, 'agent', 'main.ts')).href);
}
