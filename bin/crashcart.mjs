#!/usr/bin/env node
// `crashcart`: the appliance CLI (sources in a checkout, dist/crashcart.mjs in a packaged install; see launch.mjs).
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { launch } from './launch.mjs';
import { restartServeWithV8Flags } from './v8-flags.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// First, before anything runs: `serve` starts again with the V8 flags it lacks (bin/v8-flags.mjs).
restartServeWithV8Flags(root);
await launch(path.join(root, 'dist', 'crashcart.mjs'), path.join(root, 'server', 'cli', 'main.ts'));
