#!/usr/bin/env node
// `npm run build`: bundle the appliance CLI to dist/crashcart.mjs (esbuild), then the agent and the UI
// when their build scripts exist. bin/crashcart.mjs prefers the bundle when present.
import { build } from 'esbuild';
import { existsSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveBundleOptions } from './serve-bundle.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist', 'crashcart.mjs');
await build({ ...serveBundleOptions, entryPoints: [path.join(root, 'server', 'cli', 'main.ts')], outfile: out, sourcemap: true });
console.log(`dist/crashcart.mjs ${(statSync(out).size / 1024).toFixed(0)} KiB`);
// The addons (native/*.c: sendfile(2) for the node plane, the TFTP pump, the DHCP sockets' batched reads): a package carries them next to the bundle.
execFileSync(process.execPath, [path.join(root, 'build', 'native.mjs')], { stdio: 'inherit' });
// `--core-only`: the appliance bundle alone (build/package-deb.mjs; the agent and UI come from their own steps).
if (process.argv.includes('--core-only')) process.exit(0);
if (existsSync(path.join(root, 'build', 'agent-bundle.mjs')))
  execFileSync(process.execPath, [path.join(root, 'build', 'agent-bundle.mjs')], { stdio: 'inherit' });
if (existsSync(path.join(root, 'renderer', 'vite.config.ts')))
  execFileSync('npm', ['run', '--silent', 'build:ui'], { stdio: 'inherit', cwd: root });
